// Package esign is the seam between Hehuo's agreements and whoever records
// a signature. A Provider takes a sign request for one agreement document
// and answers its status, at once or later through a status callback.
//
// Hehuo ships one provider, InHouse: the partner reads the whole text in
// the H5 page, ticks 我已阅读并同意 and confirms; the sign-off (who — the
// DingTalk userid —, when, the document's SHA-256 and the template version)
// is the signature. A vendor (契约锁, e签宝) is added by implementing
// Provider: Request creates the vendor's signing flow for the PDF and
// returns StatusPending with the vendor's flow id and signing URL; the
// vendor then calls back, Callback verifies and parses that call, and the
// agreement service records the sign-off when the status is signed. No
// vendor is wired today (docs/agreements.md).
package esign

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Status is where a sign request stands.
type Status string

// The request states.
const (
	StatusPending  Status = "pending"  // sent to the signer, not signed yet (vendors)
	StatusSigned   Status = "signed"   // signed: record the sign-off
	StatusRejected Status = "rejected" // the signer declined, or the flow expired
)

// Request is one signer's request to sign one agreement document.
type Request struct {
	AgreementID int64
	// Signer is the Hehuo user and their DingTalk userid (who).
	UserID         int64
	DingTalkUserID string
	SignerName     string
	// Document is the agreement PDF and its SHA-256 (hex), what is signed.
	Document        []byte
	DocumentSHA256  string
	TemplateVersion int
	// Now is the time of the request (the in-house signing time).
	Now time.Time
}

// Result is a provider's answer to a request or a callback.
type Result struct {
	Status Status
	// SignedAt is when the signer signed (StatusSigned).
	SignedAt time.Time
	// ExternalID is the vendor's flow id ("" in-house); SignURL where the
	// signer signs at a vendor ("" in-house).
	ExternalID string
	SignURL    string
	// AgreementID is the agreement a callback is about.
	AgreementID int64
}

// Provider records signatures. Implementations must be safe for concurrent
// use. Request is called inside the agreement service's transaction and must
// not be slow: a vendor provider should only create the flow (one call with a
// short timeout) and leave the rest to Callback.
type Provider interface {
	// Name identifies the provider in sign-off rows (inhouse, qiyuesuo, esign).
	Name() string
	// Request asks the signer to sign req.Document.
	Request(ctx context.Context, req Request) (Result, error)
	// Callback verifies and parses the vendor's status callback.
	Callback(ctx context.Context, header http.Header, body []byte) (Result, error)
}

// ErrNoCallback is the in-house provider's answer to a callback: it signs
// synchronously and never calls back.
var ErrNoCallback = errors.New("esign: this provider has no status callback")

// InHouse is the in-house sign-off: the request is the signer's own
// confirmation in H5, so it is signed at once.
type InHouse struct{}

// Name implements Provider.
func (InHouse) Name() string { return "inhouse" }

// Request implements Provider: signed now.
func (InHouse) Request(_ context.Context, req Request) (Result, error) {
	if req.DocumentSHA256 == "" || req.UserID == 0 {
		return Result{}, errors.New("esign: request without document hash or signer")
	}
	at := req.Now
	if at.IsZero() {
		at = time.Now()
	}
	return Result{Status: StatusSigned, SignedAt: at, AgreementID: req.AgreementID}, nil
}

// Callback implements Provider: there is none.
func (InHouse) Callback(context.Context, http.Header, []byte) (Result, error) {
	return Result{}, ErrNoCallback
}
