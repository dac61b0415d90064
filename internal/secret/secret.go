// Package secret seals the few secrets Hehuo keeps in its database (the
// DingTalk app secret, robot signing secrets) with AES-256-GCM, so that a
// database dump alone does not reveal them. The key comes from
// HEHUO_SECRET_KEY and never from the database.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"hehuo/internal/apperr"
)

// KeySize is the length of a key: AES-256.
const KeySize = 32

// prefix marks the format of a sealed value, so a later format can coexist.
const prefix = "v1:"

// ErrNoKey means no key is configured and none may be made up (outside demo mode).
var ErrNoKey = errors.New("secret key not configured (HEHUO_SECRET_KEY)")

// ErrOpen means a sealed value could not be opened: a wrong key, a value
// sealed for another purpose, or a value that was tampered with.
var ErrOpen = errors.New("sealed value cannot be opened: wrong key or tampered")

// demoSeed derives the demo key. It is public, so demo secrets are not secret:
// the point is only that a demo runs without configuration.
const demoSeed = "hehuo demo secret key - not for production"

// Box seals and opens values with one key.
type Box struct {
	aead cipher.AEAD
}

// New returns a box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &Box{aead: aead}, nil
}

// ParseKey decodes a key written as 64 hex digits or as base64 (standard or
// URL alphabet, padded or not) of 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("HEHUO_SECRET_KEY must be %d bytes written as 64 hex digits or base64", KeySize)
}

// DemoKey is the fixed key a demo uses when none is configured.
func DemoKey() []byte {
	k := sha256.Sum256([]byte(demoSeed))
	return k[:]
}

// FromConfig returns the box for a configured key. With no key it returns the
// demo box and demo = true in demo mode, and ErrNoKey otherwise.
func FromConfig(key string, demoMode bool) (box *Box, demo bool, err error) {
	if strings.TrimSpace(key) == "" {
		if !demoMode {
			return nil, false, ErrNoKey
		}
		b, err := New(DemoKey())
		return b, true, err
	}
	k, err := ParseKey(key)
	if err != nil {
		return nil, false, err
	}
	b, err := New(k)
	return b, false, err
}

// Seal encrypts plaintext for purpose (e.g. "dingtalk_robot"). The purpose is
// authenticated, so a value sealed for one use cannot be replayed in another.
func (b *Box) Seal(purpose, plaintext string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: nonce: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(purpose))
	return prefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a value Seal returned for the same purpose.
func (b *Box) Open(purpose, sealed string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return "", ErrOpen
	}
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil || len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return "", ErrOpen
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(purpose))
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}

var demoKeyWarning sync.Once

// Configured returns the box for HEHUO_SECRET_KEY as FromConfig does, with
// what every caller answers: no key outside demo mode is 422
// secret_key_missing on field, its message ending in consequence (e.g.
// 无法保存分配账户); in demo mode without a key the public demo key, with
// one warning per process.
func Configured(key string, demoMode bool, log *slog.Logger, field, consequence string) (*Box, error) {
	box, demo, err := FromConfig(key, demoMode)
	if errors.Is(err, ErrNoKey) {
		return nil, apperr.Rule("secret_key_missing", field, "未配置加密密钥（HEHUO_SECRET_KEY），%s", consequence)
	}
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if demo {
		demoKeyWarning.Do(func() {
			if log == nil {
				log = slog.Default()
			}
			log.Warn("HEHUO_SECRET_KEY is not set: demo mode seals stored secrets with a public demo key; set a key before real use")
		})
	}
	return box, nil
}
