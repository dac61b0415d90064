package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"hehuo/internal/apperr"
)

func mustBox(t *testing.T, key []byte) *Box {
	t.Helper()
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	b := mustBox(t, bytes.Repeat([]byte{7}, KeySize))
	for _, plain := range []string{"SECabc123", "", "中文密钥"} {
		sealed, err := b.Seal("robot", plain)
		if err != nil {
			t.Fatal(err)
		}
		if plain != "" && strings.Contains(sealed, plain) {
			t.Fatalf("sealed value %q shows the plaintext", sealed)
		}
		got, err := b.Open("robot", sealed)
		if err != nil || got != plain {
			t.Fatalf("open = %q, %v; want %q", got, err, plain)
		}
	}
	// A fresh nonce each time: sealing twice gives different values.
	s1, _ := b.Seal("robot", "SECsame")
	s2, _ := b.Seal("robot", "SECsame")
	if s1 == s2 {
		t.Fatal("two seals of the same value are equal: nonce reused")
	}
}

func TestWrongKeyFails(t *testing.T) {
	sealed, _ := mustBox(t, bytes.Repeat([]byte{1}, KeySize)).Seal("robot", "SECx")
	if _, err := mustBox(t, bytes.Repeat([]byte{2}, KeySize)).Open("robot", sealed); !errors.Is(err, ErrOpen) {
		t.Fatalf("open with another key: %v, want ErrOpen", err)
	}
}

func TestWrongPurposeFails(t *testing.T) {
	b := mustBox(t, bytes.Repeat([]byte{1}, KeySize))
	sealed, _ := b.Seal("robot", "SECx")
	if _, err := b.Open("app_secret", sealed); !errors.Is(err, ErrOpen) {
		t.Fatalf("open for another purpose: %v, want ErrOpen", err)
	}
}

func TestTamperingDetected(t *testing.T) {
	b := mustBox(t, bytes.Repeat([]byte{3}, KeySize))
	sealed, _ := b.Seal("robot", "SECsecret-value")
	raw, _ := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, prefix))
	for i := range raw {
		c := bytes.Clone(raw)
		c[i] ^= 0x01
		if _, err := b.Open("robot", prefix+base64.RawStdEncoding.EncodeToString(c)); !errors.Is(err, ErrOpen) {
			t.Fatalf("flipping byte %d was not detected: %v", i, err)
		}
	}
	for _, bad := range []string{"", "v1:", "v1:!!!", "v2:" + strings.TrimPrefix(sealed, prefix), sealed[:len(sealed)-4]} {
		if _, err := b.Open("robot", bad); !errors.Is(err, ErrOpen) {
			t.Errorf("Open(%q) = %v, want ErrOpen", bad, err)
		}
	}
}

func TestParseKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xab}, KeySize)
	for _, s := range []string{hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key), " " + hex.EncodeToString(key) + "\n"} {
		got, err := ParseKey(s)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"short", hex.EncodeToString(key[:16]), base64.StdEncoding.EncodeToString(key[:31])} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted a bad key", s)
		}
	}
	if _, err := New(key[:16]); err == nil {
		t.Error("New accepted a 16-byte key")
	}
}

func TestFromConfig(t *testing.T) {
	if _, _, err := FromConfig("", false); !errors.Is(err, ErrNoKey) {
		t.Fatalf("no key outside demo: %v, want ErrNoKey", err)
	}
	b, demo, err := FromConfig("", true)
	if err != nil || !demo {
		t.Fatalf("no key in demo: demo=%v err=%v", demo, err)
	}
	sealed, _ := b.Seal("p", "x")
	// The demo key is stable across processes: another demo box opens it.
	b2, _, _ := FromConfig("", true)
	if got, err := b2.Open("p", sealed); err != nil || got != "x" {
		t.Fatalf("demo key not stable: %q %v", got, err)
	}
	key := hex.EncodeToString(bytes.Repeat([]byte{9}, KeySize))
	b3, demo, err := FromConfig(key, true)
	if err != nil || demo {
		t.Fatalf("configured key in demo mode: demo=%v err=%v", demo, err)
	}
	if _, err := b3.Open("p", sealed); !errors.Is(err, ErrOpen) {
		t.Fatal("a configured key opened a demo-sealed value")
	}
	if _, _, err := FromConfig("nope", false); err == nil || !strings.Contains(err.Error(), "HEHUO_SECRET_KEY") {
		t.Fatalf("bad key: %v", err)
	}
}

func TestConfiguredRefusesAMissingKeyOutsideDemoMode(t *testing.T) {
	if _, err := Configured("", false, nil, "number", "无法保存分配账户"); err == nil {
		t.Fatal("no key outside demo mode gave a box")
	} else if e := apperr.As(err); e == nil || e.Code != "secret_key_missing" || e.Field != "number" ||
		e.Message != "未配置加密密钥（HEHUO_SECRET_KEY），无法保存分配账户" {
		t.Fatalf("err = %v", err)
	}
	box, err := Configured("", true, nil, "number", "无法保存分配账户")
	if err != nil || box == nil {
		t.Fatalf("demo mode without a key: %v %v", box, err)
	}
}
