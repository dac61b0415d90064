package shareholder

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/org"
)

func actor(t *testing.T, d *db.DB, name string) audit.Actor {
	t.Helper()
	u, err := org.NewService(d).CreateUser(context.Background(), audit.System, org.UserInput{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return audit.Actor{ID: &u.ID, Name: name}
}

func fingerprint(t *testing.T, d *db.DB) string {
	t.Helper()
	var s string
	if err := d.GetContext(context.Background(), &s, `SELECT concat_ws('|',
		(SELECT count(*) FROM minority_shareholders), (SELECT count(*) FROM shareholder_registrations),
		(SELECT COALESCE(sum(version), 0) FROM shareholder_registrations), (SELECT count(*) FROM audit_log))`); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRegistrationReviewAndHistory(t *testing.T) {
	ctx := context.Background()
	d, s := newService(t)
	project := holdingtest.Project(t, d, holdingtest.CityCompany(t, d, "泰安城市公司"), "泰安-锦艺誉峯")
	acct, biz := actor(t, d, "会计甲"), actor(t, d, "业务管理员乙")
	a, err := s.Create(ctx, acct, Input{Name: "泰安城投", Kind: "company", IDNumber: creditCode(t, "91370900MA3C5LXX1")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Create(ctx, acct, Input{Name: "张三", Kind: "person", IDNumber: personID})
	if err != nil {
		t.Fatal(err)
	}
	register := func(sh int64, stake string) Registration {
		t.Helper()
		r, err := s.CreateRegistration(ctx, acct, project, RegistrationInput{ShareholderID: sh, Stake: stake, Contributed: "1500000.00", ContributedOn: "2024-03-01"})
		if err != nil {
			t.Fatal(err)
		}
		if r, err = s.Submit(ctx, acct, r.ID, r.Version); err != nil {
			t.Fatal(err)
		}
		return r
	}
	ra := register(a.ID, "0.6")
	// The submitter never reviews it.
	if _, err := s.Review(ctx, acct, ra.ID, ReviewInput{Approve: true, Version: ra.Version}); code(err) != "own_submission" {
		t.Fatalf("own submission: %v", err)
	}
	// Returning needs a reason.
	if _, err := s.Review(ctx, biz, ra.ID, ReviewInput{Approve: false, Version: ra.Version}); code(err) != "reason_required" {
		t.Fatalf("no reason: %v", err)
	}
	ret, err := s.Review(ctx, biz, ra.ID, ReviewInput{Approve: false, Reason: "出资日期有误", Version: ra.Version})
	if err != nil || ret.Status != StatusReturned || ret.StatusLabel != "已退回" || ret.ReviewReason != "出资日期有误" {
		t.Fatalf("returned: %+v %v", ret, err)
	}
	ret, err = s.UpdateRegistration(ctx, acct, ra.ID, RegistrationInput{Stake: "0.6", Contributed: "1500000", ContributedOn: "2024-03-02", Version: ret.Version})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateRegistration(ctx, acct, ra.ID, RegistrationInput{Stake: "0.6", Contributed: "1", ContributedOn: "2024-03-02", Version: 1}); !errorsIs(err, apperr.ErrStaleVersion) {
		t.Fatalf("stale: %v", err)
	}
	ra, _ = s.Submit(ctx, acct, ra.ID, ret.Version)
	if ra, err = s.Review(ctx, biz, ra.ID, ReviewInput{Approve: true, Version: ra.Version}); err != nil || ra.Status != StatusApproved {
		t.Fatalf("approve: %+v %v", ra, err)
	}
	rb := register(b.ID, "0.45")
	before := fingerprint(t, d)
	_, err = s.Review(ctx, biz, rb.ID, ReviewInput{Approve: true, Version: rb.Version})
	if code(err) != "stake_total_exceeded" || !strings.Contains(apperr.As(err).Message, "合计 105.00%") || apperr.As(err).Kind != apperr.KindRule {
		t.Fatalf("above 100%%: %v", err)
	}
	if fingerprint(t, d) != before {
		t.Fatal("a refused approval wrote something")
	}
	// The unreviewed registration is no stake.
	stakes, _ := ApprovedStakes(ctx, d, project)
	if len(stakes) != 1 || stakes[0].ShareholderID != a.ID {
		t.Fatalf("stakes: %+v", stakes)
	}
	// A new version of A's stake (0.5) supersedes the approved 0.6; B's 0.45 then fits (95%).
	ra2 := register(a.ID, "0.5")
	if _, err := s.CreateRegistration(ctx, acct, project, RegistrationInput{ShareholderID: a.ID, Stake: "0.1", Contributed: "0", ContributedOn: "2024-03-01"}); code(err) != "registration_open" {
		t.Fatalf("second open registration: %v", err)
	}
	if _, err := s.Review(ctx, biz, ra2.ID, ReviewInput{Approve: true, Version: ra2.Version}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Review(ctx, biz, rb.ID, ReviewInput{Approve: true, Version: rb.Version}); err != nil {
		t.Fatal(err)
	}
	list, err := s.Registrations(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range list {
		got = append(got, r.ShareholderName+":"+r.Stake+":"+r.StatusLabel)
	}
	want := "张三:0.450000:已通过 泰安城投:0.500000:已通过 泰安城投:0.600000:已被替代"
	if strings.Join(got, " ") != want {
		t.Fatalf("history:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	total, _ := StakeTotal(ctx, d, project)
	if Percent(total) != "95.00%" {
		t.Fatalf("total %s", Percent(total))
	}
	// Approved registrations are no longer editable.
	if _, err := s.UpdateRegistration(ctx, acct, rb.ID, RegistrationInput{Stake: "0.1", Contributed: "0", ContributedOn: "2024-03-01", Version: rb.Version + 1}); code(err) != "registration_locked" {
		t.Fatalf("edit approved: %v", err)
	}
}

func errorsIs(err, target error) bool { return err != nil && code(err) == code(target) }

func TestBadInputsWriteNothing(t *testing.T) {
	ctx := context.Background()
	d, s := newService(t)
	project := holdingtest.Project(t, d, holdingtest.CityCompany(t, d, "泰安城市公司"), "泰安-锦艺誉峯")
	acct := actor(t, d, "会计甲")
	sh, err := s.Create(ctx, acct, Input{Name: "张三", Kind: "person", IDNumber: personID})
	if err != nil {
		t.Fatal(err)
	}
	good := creditCode(t, "91370900MA3C5LXX1")
	wrongCheck := good[:17] + map[bool]string{true: "1", false: "2"}[good[17] != '1']
	before := fingerprint(t, d)
	for _, c := range []struct {
		in   Input
		code string
	}{
		{Input{Name: "甲公司", Kind: "company", IDNumber: wrongCheck}, "credit_code_invalid"},
		{Input{Name: "甲公司", Kind: "company", IDNumber: "91370900MA3C5LXX"}, "credit_code_invalid"},
		{Input{Name: "甲公司", Kind: "company", IDNumber: "91370900MA3C5LXXI1"}, "credit_code_invalid"},
		{Input{Name: "李四", Kind: "person", IDNumber: "110105194912310021"}, "id_number_invalid"},
		{Input{Name: "李四", Kind: "person", IDNumber: "110105194913310028"}, "id_number_invalid"},
		{Input{Name: "李四", Kind: "person", IDNumber: good}, "id_number_invalid"},
		{Input{Name: "李四", Kind: "trust", IDNumber: personID}, "shareholder_kind_invalid"},
		{Input{Name: "", Kind: "person", IDNumber: personID}, "required"},
		{Input{Name: "李四", Kind: "person", IDNumber: personID, Bank: "工行", AccountNumber: "12ab5678"}, "account_number_invalid"},
		{Input{Name: "李四", Kind: "person", IDNumber: personID}, "shareholder_duplicate"},
	} {
		_, err := s.Create(ctx, acct, c.in)
		if code(err) != c.code {
			t.Errorf("%+v: got %v, want %s", c.in, err, c.code)
		}
		if err != nil && strings.Contains(err.Error(), c.in.IDNumber) && c.in.IDNumber != "" {
			t.Errorf("the number is in the message: %v", err)
		}
	}
	for _, c := range []struct {
		in   RegistrationInput
		code string
	}{
		{RegistrationInput{ShareholderID: sh.ID, Stake: "-0.1", Contributed: "1", ContributedOn: "2024-03-01"}, "stake_invalid"},
		{RegistrationInput{ShareholderID: sh.ID, Stake: "0", Contributed: "1", ContributedOn: "2024-03-01"}, "stake_invalid"},
		{RegistrationInput{ShareholderID: sh.ID, Stake: "1.01", Contributed: "1", ContributedOn: "2024-03-01"}, "stake_invalid"},
		{RegistrationInput{ShareholderID: sh.ID, Stake: "0.1234567", Contributed: "1", ContributedOn: "2024-03-01"}, "stake_invalid"},
		{RegistrationInput{ShareholderID: sh.ID, Stake: "15%", Contributed: "1", ContributedOn: "2024-03-01"}, "stake_invalid"},
		{RegistrationInput{ShareholderID: sh.ID, Stake: "0.1", Contributed: "1.234", ContributedOn: "2024-03-01"}, "amount_too_precise"},
		{RegistrationInput{ShareholderID: sh.ID, Stake: "0.1", Contributed: "-1", ContributedOn: "2024-03-01"}, "amount_negative"},
		{RegistrationInput{ShareholderID: sh.ID, Stake: "0.1", Contributed: "1", ContributedOn: "1999-12-31"}, "date_out_of_range"},
		{RegistrationInput{ShareholderID: sh.ID, Stake: "0.1", Contributed: "1", ContributedOn: "2024/03/01"}, "invalid_date"},
		{RegistrationInput{ShareholderID: 999999, Stake: "0.1", Contributed: "1", ContributedOn: "2024-03-01"}, "shareholder_not_found"},
	} {
		if _, err := s.CreateRegistration(ctx, acct, project, c.in); code(err) != c.code {
			t.Errorf("%+v: got %v, want %s", c.in, err, c.code)
		}
	}
	if fingerprint(t, d) != before {
		t.Fatal("a refused input wrote something")
	}
}

func xlsx(t *testing.T, rows ...[]any) *bytes.Buffer {
	t.Helper()
	f := excelize.NewFile()
	header := make([]any, len(ImportColumns))
	for i, c := range ImportColumns {
		header[i] = c
	}
	_ = f.SetSheetRow("Sheet1", "A1", &header)
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		_ = f.SetSheetRow("Sheet1", cell, &r)
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return &b
}

func TestImportAllOrNothing(t *testing.T) {
	ctx := context.Background()
	d, s := newService(t)
	acct := actor(t, d, "会计甲")
	cc := creditCode(t, "91370900MA3C5LXX1")
	before := fingerprint(t, d)
	_, err := s.Import(ctx, acct, xlsx(t,
		[]any{"泰安城投", "企业", cc, "", "工商银行", "6222021602012345678"},
		[]any{"张三", "个人", "110105194912310021", "", "", ""},
	))
	e := apperr.As(err)
	if e == nil || e.Code != "import_invalid" || e.Kind != apperr.KindRule || !strings.Contains(e.Message, "第3行「证件号码」") {
		t.Fatalf("bad cell: %v", err)
	}
	if strings.Contains(e.Message, "110105194912310021") {
		t.Fatal("the number is in the message")
	}
	if fingerprint(t, d) != before {
		t.Fatal("a refused import wrote something")
	}
	n, err := s.Import(ctx, acct, xlsx(t,
		[]any{"泰安城投", "企业", cc, "", "工商银行", "6222021602012345678"},
		[]any{"张三", "个人", personID, "", "", ""},
	))
	if err != nil || n != 2 {
		t.Fatalf("import: %d %v", n, err)
	}
	list, _ := s.List(ctx)
	if len(list) != 2 {
		t.Fatalf("list %+v", list)
	}
	var tmpl bytes.Buffer
	if err := ImportTemplate(&tmpl); err != nil || tmpl.Len() == 0 {
		t.Fatal(err)
	}
}

// Two approvals racing for the same project cannot pass the 100% check
// together: exactly one of 60% and 60% is approved.
func TestConcurrentApprovalsKeepTheCap(t *testing.T) {
	ctx := context.Background()
	d, s := newService(t)
	project := holdingtest.Project(t, d, holdingtest.CityCompany(t, d, "泰安城市公司"), "泰安-锦艺誉峯")
	acct, biz := actor(t, d, "会计甲"), actor(t, d, "业务管理员乙")
	var regs []Registration
	for i, in := range []Input{{Name: "泰安城投", Kind: "company", IDNumber: creditCode(t, "91370900MA3C5LXX1")}, {Name: "张三", Kind: "person", IDNumber: personID}} {
		sh, err := s.Create(ctx, acct, in)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.CreateRegistration(ctx, acct, project, RegistrationInput{ShareholderID: sh.ID, Stake: "0.6", Contributed: "0", ContributedOn: "2024-03-01"})
		if err != nil {
			t.Fatal(err)
		}
		if r, err = s.Submit(ctx, acct, r.ID, r.Version); err != nil {
			t.Fatal(i, err)
		}
		regs = append(regs, r)
	}
	errs := make(chan error, 2)
	for _, r := range regs {
		go func() {
			_, err := s.Review(ctx, biz, r.ID, ReviewInput{Approve: true, Version: r.Version})
			errs <- err
		}()
	}
	var ok, refused int
	for range regs {
		switch err := <-errs; code(err) {
		case "":
			ok++
		case "stake_total_exceeded":
			refused++
		default:
			t.Fatal(err)
		}
	}
	if ok != 1 || refused != 1 {
		t.Fatalf("approved %d, refused %d", ok, refused)
	}
	if total, _ := StakeTotal(ctx, d, project); Percent(total) != "60.00%" {
		t.Fatalf("total %s", Percent(total))
	}
}
