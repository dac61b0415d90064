package esign_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"hehuo/internal/esign"
)

// The in-house provider signs at once, at the request's time, and has no
// callback; a request without a document hash or signer is refused.
func TestInHouse(t *testing.T) {
	var p esign.Provider = esign.InHouse{}
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	r, err := p.Request(context.Background(), esign.Request{AgreementID: 7, UserID: 3, DocumentSHA256: "ab", Now: at})
	if err != nil || r.Status != esign.StatusSigned || !r.SignedAt.Equal(at) || r.AgreementID != 7 || p.Name() != "inhouse" {
		t.Fatalf("request: %+v %v", r, err)
	}
	if _, err := p.Request(context.Background(), esign.Request{AgreementID: 7}); err == nil {
		t.Fatal("a request without hash and signer was signed")
	}
	if _, err := p.Callback(context.Background(), nil, nil); !errors.Is(err, esign.ErrNoCallback) {
		t.Fatalf("callback: %v", err)
	}
}
