package agreement_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"hehuo/internal/agreement"
	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/round"
)

type fixture struct {
	d        *db.DB
	s        *agreement.Service
	project  int64
	users    []int64
	partners []int64
	round    int64
}

// newFixture is 常州项目 with terms and an approved round of two partners
// (1,234,567 and 300,000), its agreements generated.
func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	est := establishment.NewService(d, nil)
	f := fixture{d: d, s: agreement.NewService(d, est, round.NewService(d, nil, est, config.Default()), nil, config.Default())}
	city := holdingtest.CityCompany(t, d, "环沪城市公司")
	f.project = holdingtest.Project(t, d, city, "常州项目")
	if _, err := est.PutTerms(ctx, audit.System, f.project, establishment.TermsInput{PeakCapital: "220000000",
		TierRatios:        establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		CollectionAccount: establishment.CollectionAccount{Bank: "工商银行常州分行", AccountName: "常州锦艺合伙企业", AccountNumber: "1105020309000012345"},
	}); err != nil {
		t.Fatal(err)
	}
	alloc := map[int64]string{}
	for i, name := range []string{"张伟", "李娜"} {
		var uid int64
		if err := d.Get(&uid, `INSERT INTO users (name, dingtalk_userid) VALUES ($1, $2) RETURNING id`, name, fmt.Sprintf("dt_%d", i)); err != nil {
			t.Fatal(err)
		}
		p := holdingtest.Partner(t, d, uid)
		f.users, f.partners = append(f.users, uid), append(f.partners, p)
		alloc[p] = []string{"1234567", "300000"}[i]
	}
	f.round = holdingtest.Round(t, d, f.project, "approved", alloc)
	if err := f.s.GenerateForRound(ctx, f.round); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fixture) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := f.d.Get(&n, `SELECT count(*) FROM `+table); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if e := apperr.As(err); e == nil || e.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

// pdfText reads pdf back with pdftotext; outside CI a machine without it skips.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext is missing in CI: scripts/pdf.sh installs poppler-utils")
		}
		t.Skip("pdftotext not installed (bash scripts/pdf.sh)")
	}
	cmd := exec.Command(bin, "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(out)), "")
}

// Generation on approval (here for a round approved outside the process
// center; the observer path is in microapp's HTTP test): one agreement per
// partner, with the snapshot; running again writes nothing.
func TestGenerateOncePerPartner(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mine, err := f.s.Mine(ctx, f.users[0])
	if err != nil || len(mine) != 1 {
		t.Fatalf("mine: %v %v", mine, err)
	}
	a := mine[0]
	if a.Vars["principal"] != "1,234,567.00" || a.Vars["partner_name"] != "张伟" || a.Vars["project_name"] != "常州项目" ||
		a.Vars["tiers"] != "城市公司" || a.Status != agreement.StatusUnsigned || a.TemplateVersion != 1 {
		t.Fatalf("agreement = %+v", a)
	}
	if err := f.s.GenerateForRound(ctx, f.round); err != nil || f.count(t, "agreements") != 2 {
		t.Fatalf("again: %d agreements, %v", f.count(t, "agreements"), err)
	}
	other := holdingtest.Round(t, f.d, f.project, "calculated", map[int64]string{f.partners[0]: "1000"})
	wantCode(t, f.s.GenerateForRound(ctx, other), "round_not_approved")
}

// The PDF: pdftotext finds the name, the project and the principal to the
// fen; the stored hash is the bytes'; rendering is deterministic; a
// download and a sign-off use the stored bytes, signing twice records once;
// another partner's agreement is not found and nothing is written.
func TestPDFHashAndSignOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mine, _ := f.s.Mine(ctx, f.users[0])
	id := mine[0].ID

	_, _, err := f.s.PDF(ctx, f.users[1], id)
	if !errors.Is(err, agreement.ErrNotFound) {
		t.Fatalf("another partner's pdf: %v", err)
	}
	_, err = f.s.Sign(ctx, audit.System, f.users[1], id, agreement.SignInput{Agreed: true})
	if !errors.Is(err, agreement.ErrNotFound) || f.count(t, "agreement_signoffs") != 0 {
		t.Fatalf("another partner's sign: %v", err)
	}
	_, err = f.s.Sign(ctx, audit.System, f.users[0], id, agreement.SignInput{Agreed: false})
	wantCode(t, err, "agreement_not_agreed")
	var stored *string
	if f.d.Get(&stored, `SELECT sha256 FROM agreements WHERE id = $1`, id); stored != nil || f.count(t, "agreement_signoffs") != 0 {
		t.Fatal("a refused sign-off wrote something")
	}

	name, pdf, err := f.s.PDF(ctx, f.users[0], id)
	if err != nil || !strings.HasSuffix(name, ".pdf") {
		t.Fatalf("pdf %q: %v", name, err)
	}
	var hash string
	if err := f.d.Get(&hash, `SELECT sha256 FROM agreements WHERE id = $1`, id); err != nil || hash != agreement.Hash(pdf) {
		t.Fatalf("stored %s, bytes' %s", hash, agreement.Hash(pdf))
	}
	txt := pdfText(t, pdf)
	for _, want := range []string{"张伟", "常州项目", "1,234,567.00"} {
		if !strings.Contains(txt, want) {
			t.Fatalf("pdftotext lacks %q: %s", want, txt)
		}
	}
	full, err := f.s.MineFull(ctx, f.users[0], id)
	if err != nil {
		t.Fatal(err)
	}
	font, _ := os.ReadFile(config.DefaultAgreementFont)
	again, err := agreement.RenderPDF(font, agreement.Document{AgreementID: id, Title: full.Title, Text: full.Text,
		TemplateVersion: full.TemplateVersion, Date: full.CreatedAt})
	if err != nil || !bytes.Equal(again, pdf) {
		t.Fatalf("rendering again differs (%d vs %d bytes, %v)", len(again), len(pdf), err)
	}

	s1, err := f.s.Sign(ctx, audit.System, f.users[0], id, agreement.SignInput{Agreed: true})
	if err != nil || s1.DocumentSHA256 != hash || s1.DingTalkUserID != "dt_0" || s1.TemplateVersion != 1 {
		t.Fatalf("sign-off %+v %v", s1, err)
	}
	s2, err := f.s.Sign(ctx, audit.System, f.users[0], id, agreement.SignInput{Agreed: true})
	if err != nil || !s2.SignedAt.Equal(s1.SignedAt) || f.count(t, "agreement_signoffs") != 1 {
		t.Fatalf("second sign-off %+v %v (%d rows)", s2, err, f.count(t, "agreement_signoffs"))
	}
}

// Saving a template makes the next version (stale 409, invalid body 400,
// nothing written); an agreement keeps the version it was generated from.
func TestTemplateVersioning(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.s.SaveTemplate(ctx, audit.System, "round", agreement.TemplateInput{Name: "合伙协议", Body: "{{.partner_name}}", Version: 2})
	wantCode(t, err, "agreement_template_stale")
	_, err = f.s.SaveTemplate(ctx, audit.System, "round", agreement.TemplateInput{Name: "合伙协议", Body: "{{.nope}}", Version: 1})
	wantCode(t, err, "agreement_template_invalid")
	_, err = f.s.SaveTemplate(ctx, audit.System, "round", agreement.TemplateInput{Name: "合伙协议", Body: "{{.partner_name", Version: 1})
	wantCode(t, err, "agreement_template_invalid")
	_, err = f.s.SaveTemplate(ctx, audit.System, "other", agreement.TemplateInput{Name: "合伙协议", Body: "x", Version: 1})
	wantCode(t, err, "agreement_template_not_found")
	if f.count(t, "agreement_templates") != 2 {
		t.Fatal("a refused save wrote a version")
	}
	v2, err := f.s.SaveTemplate(ctx, audit.System, "round", agreement.TemplateInput{Name: "合伙协议", Body: "新版：{{.partner_name}}", Version: 1})
	if err != nil || v2.Version != 2 {
		t.Fatalf("v2 %+v %v", v2, err)
	}
	mine, _ := f.s.Mine(ctx, f.users[0])
	full, _ := f.s.MineFull(ctx, f.users[0], mine[0].ID)
	if full.TemplateVersion != 1 || strings.Contains(full.Text, "新版") {
		t.Fatalf("the agreement followed the new version: %+v", full.Agreement)
	}
	pv, err := f.s.Preview(ctx, agreement.PreviewInput{Body: v2.Body, AgreementID: mine[0].ID})
	if err != nil || pv.Text != "新版：张伟" {
		t.Fatalf("preview %+v %v", pv, err)
	}
	vs, err := f.s.Versions(ctx, "round")
	if err != nil || len(vs) != 2 || vs[0].Version != 2 {
		t.Fatalf("versions %v %v", vs, err)
	}
}

// BenchmarkAgreementPDF renders and hashes 1,000 agreements (reported per
// PDF; not gated).
func BenchmarkAgreementPDF(b *testing.B) {
	font, err := os.ReadFile(config.DefaultAgreementFont)
	if err != nil {
		b.Skip("no CJK font (bash scripts/pdf.sh)")
	}
	body := "事业合伙协议\n\n甲方（合伙人）：{{.partner_name}}\n乙方（项目）：{{.project_name}}\n\n" +
		strings.Repeat("一、甲方参与乙方事业合伙跟投，在执本金为人民币{{.principal}}元，资金到位日期为{{.funding_date}}。\n\n", 12)
	const n = 1000
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for j := 0; j < n; j++ {
			vars := agreement.SampleVars()
			vars["partner_name"] = fmt.Sprintf("合伙人%04d", j)
			txt, err := agreement.Render(body, vars)
			if err != nil {
				b.Fatal(err)
			}
			pdf, err := agreement.RenderPDF(font, agreement.Document{AgreementID: int64(j), Title: "事业合伙协议", Text: txt,
				TemplateVersion: 1, Date: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				b.Fatal(err)
			}
			_ = agreement.Hash(pdf)
		}
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N*n), "ms/pdf")
}
