package payout_test

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/org"
	"hehuo/internal/payout"
)

const number = "6222 0212 3456 7890 123"

func TestNormalizeNumber(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"6222021234567890123", "6222021234567890123", true},
		{" 6222-0212-3456 7890 ", "6222021234567890", true},
		{"123456789012", "123456789012", true},                   // 12 digits: the shortest
		{strings.Repeat("9", 30), strings.Repeat("9", 30), true}, // 30: the longest
		{"12345678901", "", false},                               // 11
		{strings.Repeat("9", 31), "", false},
		{"62220212345678901X", "", false},
		{"", "", false},
	} {
		got, err := payout.NormalizeNumber(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("NormalizeNumber(%q) = %q, %v; want %q ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && strings.Contains(err.Error(), strings.TrimSpace(c.in)) && c.in != "" {
			t.Errorf("the error repeats the number: %v", err)
		}
	}
	if got := payout.Mask("0123"); got != "**** **** **** 0123" {
		t.Errorf("Mask = %q", got)
	}
}

func setup(t *testing.T) (*db.DB, *payout.Service, int64) {
	t.Helper()
	d := dbtest.New(t)
	cfg := config.Default()
	cfg.SecretKey = hex.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	u, err := org.NewService(d).CreateUser(context.Background(), audit.System, org.UserInput{Name: "张三", DingTalkUserID: "dt_zhangsan"})
	if err != nil {
		t.Fatal(err)
	}
	return d, payout.NewService(d, cfg, nil), u.ID
}

func TestSaveSealsMasksAndNeedsConfirmingAgain(t *testing.T) {
	ctx := context.Background()
	d, s, uid := setup(t)
	digits := strings.ReplaceAll(number, " ", "")

	if ok, err := payout.Confirmed(ctx, d, uid); err != nil || ok {
		t.Fatalf("Confirmed before any account = %v, %v", ok, err)
	}
	a, err := s.Save(ctx, audit.System, uid, payout.Input{Bank: "招商银行", Branch: "南京分行", Holder: "张三", Number: number})
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != payout.StatusUnconfirmed || a.NumberMasked != "**** **** **** 0123" || a.Version != 1 {
		t.Fatalf("saved %+v", a)
	}
	// At rest the number is sealed: no column of the row, and no audit entry, holds it.
	var rowText, auditText string
	if err := d.GetContext(ctx, &rowText, `SELECT p::text FROM payout_accounts p WHERE user_id = $1`, uid); err != nil {
		t.Fatal(err)
	}
	if err := d.GetContext(ctx, &auditText, `SELECT coalesce(string_agg(coalesce(before::text, '') || coalesce(after::text, ''), ' '), '') FROM audit_log WHERE entity = 'payout_account'`); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rowText, digits) || strings.Contains(rowText, digits[:12]) || strings.Contains(auditText, digits[:12]) || !strings.Contains(auditText, "0123") {
		t.Fatalf("number not sealed: row %s audit %s", rowText, auditText)
	}
	// The confirmation notice went out with the change.
	var notices int
	if err := d.GetContext(ctx, &notices, `SELECT count(*) FROM notify_outbox WHERE template = 'account_confirm_notice'`); err != nil {
		t.Fatal(err)
	}
	if notices != 1 {
		t.Fatalf("confirmation notices = %d", notices)
	}
	if _, err := s.Confirm(ctx, audit.System, uid, 7); !errors.Is(err, apperr.ErrStaleVersion) {
		t.Fatalf("stale confirm: %v", err)
	}
	a, err = s.Confirm(ctx, audit.System, uid, a.Version)
	if err != nil || a.Status != payout.StatusConfirmed {
		t.Fatalf("confirm: %+v %v", a, err)
	}
	if ok, _ := payout.Confirmed(ctx, d, uid); !ok {
		t.Fatal("not confirmed after Confirm")
	}
	all, err := payout.Of(ctx, d, []int64{uid, uid + 1000})
	if err != nil || len(all) != 1 || all[uid].Status != payout.StatusConfirmed || all[uid].NumberMasked != "**** **** **** 0123" {
		t.Fatalf("Of = %+v, %v", all, err)
	}
	// The same account again changes nothing; a new branch needs confirming again.
	same, err := s.Save(ctx, audit.System, uid, payout.Input{Bank: "招商银行", Branch: "南京分行", Holder: "张三", Number: digits, Version: a.Version})
	if err != nil || same.Version != a.Version || same.Status != payout.StatusConfirmed {
		t.Fatalf("same account: %+v %v", same, err)
	}
	b, err := s.Save(ctx, audit.System, uid, payout.Input{Bank: "招商银行", Branch: "南京新街口支行", Holder: "张三", Number: digits, Version: a.Version})
	if err != nil || b.Status != payout.StatusUnconfirmed {
		t.Fatalf("change: %+v %v", b, err)
	}
	if ok, _ := payout.Confirmed(ctx, d, uid); ok {
		t.Fatal("a changed account is still confirmed")
	}
	if _, err := s.Save(ctx, audit.System, uid, payout.Input{Bank: "招商银行", Branch: "x", Holder: "张三", Number: digits, Version: a.Version}); !errors.Is(err, apperr.ErrStaleVersion) {
		t.Fatalf("stale save: %v", err)
	}
}

func TestSaveRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	d, s, uid := setup(t)
	for _, c := range []struct {
		name string
		in   payout.Input
		code string
	}{
		{"holder is not the partner", payout.Input{Bank: "招商银行", Branch: "南京分行", Holder: "李四", Number: number}, "payout_holder_mismatch"},
		{"number too short", payout.Input{Bank: "招商银行", Branch: "南京分行", Holder: "张三", Number: "12345"}, "payout_number_invalid"},
		{"number with letters", payout.Input{Bank: "招商银行", Branch: "南京分行", Holder: "张三", Number: "6222abc1234567890"}, "payout_number_invalid"},
		{"no bank", payout.Input{Branch: "南京分行", Holder: "张三", Number: number}, "required"},
		{"markup in branch", payout.Input{Bank: "招商银行", Branch: "<b>", Holder: "张三", Number: number}, "angle_brackets"},
	} {
		_, err := s.Save(ctx, audit.System, uid, c.in)
		if e := apperr.As(err); e == nil || e.Code != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	var n int
	if err := d.GetContext(ctx, &n, `SELECT count(*) FROM payout_accounts`); err != nil || n != 0 {
		t.Fatalf("accounts after refusals = %d, %v", n, err)
	}
	// Without a key outside demo mode nothing is stored in clear.
	_, err := payout.NewService(d, config.Default(), nil).Save(ctx, audit.System, uid, payout.Input{Bank: "招商银行", Branch: "南京分行", Holder: "张三", Number: number})
	if e := apperr.As(err); e == nil || e.Code != "secret_key_missing" {
		t.Fatalf("no key: %v", err)
	}
}

// A user DingTalk does not know gets no confirmation notice, so the account
// cannot be confirmed: confirming means having been asked to check it.
func TestConfirmNeedsTheNotice(t *testing.T) {
	ctx := context.Background()
	d, s, _ := setup(t)
	u, err := org.NewService(d).CreateUser(ctx, audit.System, org.UserInput{Name: "李四"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Save(ctx, audit.System, u.ID, payout.Input{Bank: "招商银行", Branch: "南京分行", Holder: "李四", Number: number})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Confirm(ctx, audit.System, u.ID, a.Version); apperr.As(err) == nil || apperr.As(err).Code != "payout_notice_missing" {
		t.Fatalf("confirm without a notice: %v", err)
	}
	if ok, _ := payout.Confirmed(ctx, d, u.ID); ok {
		t.Fatal("confirmed without a notice")
	}
}
