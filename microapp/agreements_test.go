package microapp_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/agreement"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/money"
	"hehuo/internal/partner"
)

// mustAgreementFixture gives userID an agreement in project projectID with
// its PDF already generated (so that reading it writes nothing), for the
// access matrix's /me/agreements paths.
func (e *env) mustAgreementFixture(projectID, userID int64) int64 {
	e.t.Helper()
	ctx := context.Background()
	vars := agreement.SampleVars()
	vars["partner_name"], vars["project_name"] = "审计丙", "常州项目"
	raw, _ := json.Marshal(vars)
	var id int64
	err := e.db.InTx(ctx, func(tx *sqlx.Tx) error {
		pid, err := partner.EnsureForUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		return tx.GetContext(ctx, &id, `INSERT INTO agreements (project_id, partner_id, user_id, subject_kind, subject_id, template_id, vars)
			VALUES ($1, $2, $3, 'round', 0, (SELECT id FROM agreement_templates WHERE code = 'round' AND version = 1), $4) RETURNING id`,
			projectID, pid, userID, raw)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.deps.Agreements.Generate(ctx, id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// fillAgreementPath puts real ids into /me/agreements and template paths.
func fillAgreementPath(p string, agreementID int64) string {
	switch {
	case p == "/api/v1/me/agreements/:id":
		return "/api/v1/me/agreements/" + itoa(agreementID) + ".pdf"
	case strings.HasPrefix(p, "/api/v1/me/agreements/:id"):
		return strings.Replace(p, ":id", itoa(agreementID), 1)
	case strings.HasPrefix(p, "/api/v1/agreement-templates/:code"):
		return strings.Replace(p, ":code", "round", 1)
	}
	return p
}

// pdfText is the text pdftotext (Debian's poppler-utils, scripts/pdf.sh)
// reads from pdf. Outside CI a machine without it skips; in CI it must run.
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
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// Must show: a round approved through its process gives each partner an
// agreement in the same transaction; the partner reads it, downloads the
// PDF (pdftotext finds the name, the project and the principal to the
// fen; the stored hash is the bytes'), signs once (twice records once);
// another partner's agreement is 404, bad input 4xx with nothing written;
// the console shows who signed and reminds who has not; templates are
// versioned and agreements keep theirs.
func TestAgreementsGeneratedSignedAndReminded(t *testing.T) {
	e := newEnv(t)
	e.startBot()
	f := e.flowWorld()
	e.termsAndPeak(f)
	zhangUser := e.partnerUser("ag_zhang", "张伟", "")
	liUser := e.partnerUser("ag_li", "李娜", "")
	zhangP := holdingtest.Partner(t, e.db, zhangUser)
	liP := holdingtest.Partner(t, e.db, liUser)
	roundID := holdingtest.Round(t, e.db, f.projA, "reviewed", map[int64]string{zhangP: "1234567", liP: "300000"})

	// Nothing before the approval.
	zhang, li := e.signInByAuthCode("ag_zhang"), e.signInByAuthCode("ag_li")
	if items := e.must(200, e.do(zhang, "GET", "/api/v1/me/agreements", nil)).Body["items"].([]any); len(items) != 0 {
		t.Fatalf("agreements before approval: %v", items)
	}
	proc := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/processes", map[string]any{
		"kind": "supplementary", "subject_id": roundID, "form": map[string]string{"情况说明": "补充立项"}})).Body
	e.decide(f.acct, num(proc["id"]), str(proc["instance_id"]), "agree")

	items := e.must(200, e.do(zhang, "GET", "/api/v1/me/agreements", nil)).Body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("张伟's agreements: %v", items)
	}
	ag := items[0].(map[string]any)
	id := itoa(num(ag["id"]))
	if str(ag["status"]) != "unsigned" || str(ag["status_label"]) != "待签署" || str(ag["project_name"]) != "常州项目" ||
		num(ag["template_version"]) != 1 || ag["sha256"] != nil {
		t.Fatalf("agreement = %v", ag)
	}
	full := e.must(200, e.do(zhang, "GET", "/api/v1/me/agreements/"+id+"/text", nil)).Body
	for _, want := range []string{"张伟", "常州项目", "1,234,567.00", "工商银行常州分行"} {
		if !strings.Contains(str(full["text"]), want) {
			t.Fatalf("text lacks %q: %s", want, full["text"])
		}
	}

	// Refusals, nothing written: another partner's agreement, no .pdf, not agreed.
	e.refusedUnchanged("李娜 reads 张伟's pdf", 404, "agreement_not_found", func() response {
		return e.do(li, "GET", "/api/v1/me/agreements/"+id+".pdf", nil)
	})
	e.refusedUnchanged("李娜 signs 张伟's", 404, "agreement_not_found", func() response {
		return e.do(li, "POST", "/api/v1/me/agreements/"+id+"/sign", map[string]any{"agreed": true})
	})
	e.refusedUnchanged("李娜 reads 张伟's text", 404, "agreement_not_found", func() response {
		return e.do(li, "GET", "/api/v1/me/agreements/"+id+"/text", nil)
	})
	e.refusedUnchanged("without .pdf", 404, "agreement_not_found", func() response {
		return e.do(zhang, "GET", "/api/v1/me/agreements/"+id, nil)
	})
	e.refusedUnchanged("not a number", 404, "agreement_not_found", func() response {
		return e.do(zhang, "GET", "/api/v1/me/agreements/x"+id+".pdf", nil)
	})
	e.refusedUnchanged("not ticked", 400, "agreement_not_agreed", func() response {
		return e.do(zhang, "POST", "/api/v1/me/agreements/"+id+"/sign", map[string]any{"agreed": false})
	})
	if r := e.do(zhang, "GET", "/api/v1/projects/"+f.proj+"/agreements", nil); r.Status != 403 {
		t.Fatalf("a partner on the console route: %d", r.Status)
	}

	// The PDF: the stored hash is the bytes', the same bytes again.
	res := e.must(200, e.do(zhang, "GET", "/api/v1/me/agreements/"+id+".pdf", nil))
	if ct := res.Header.Get("Content-Type"); ct != "application/pdf" || !bytes.HasPrefix(res.Raw, []byte("%PDF")) {
		t.Fatalf("pdf: %s %q", ct, res.Raw[:min(20, len(res.Raw))])
	}
	sum := sha256.Sum256(res.Raw)
	hash := hex.EncodeToString(sum[:])
	var stored string
	if err := e.db.Get(&stored, `SELECT sha256 FROM agreements WHERE id = $1`, num(ag["id"])); err != nil || stored != hash {
		t.Fatalf("stored hash %s, bytes' %s (%v)", stored, hash, err)
	}
	if again := e.must(200, e.do(zhang, "GET", "/api/v1/me/agreements/"+id+".pdf", nil)); !bytes.Equal(again.Raw, res.Raw) {
		t.Fatal("a second download differs")
	}
	txt := strings.Join(strings.Fields(pdfText(t, res.Raw)), "")
	for _, want := range []string{"张伟", "常州项目", "1,234,567.00"} {
		if !strings.Contains(txt, want) {
			t.Fatalf("pdftotext lacks %q: %s", want, txt)
		}
	}

	// Signed: who, when, the hash, the template version; twice → once.
	so := e.must(200, e.do(zhang, "POST", "/api/v1/me/agreements/"+id+"/sign", map[string]any{"agreed": true})).Body
	if str(so["dingtalk_userid"]) != "ag_zhang" || str(so["document_sha256"]) != hash || num(so["template_version"]) != 1 ||
		str(so["status"]) != "signed" || str(so["provider"]) != "inhouse" {
		t.Fatalf("sign-off = %v", so)
	}
	so2 := e.must(200, e.do(zhang, "POST", "/api/v1/me/agreements/"+id+"/sign", map[string]any{"agreed": true})).Body
	if so2["signed_at"] != so["signed_at"] {
		t.Fatalf("second sign-off %v, first %v", so2, so)
	}
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM agreement_signoffs`); err != nil || n != 1 {
		t.Fatalf("%d sign-offs (%v), want 1", n, err)
	}
	if got := e.must(200, e.do(zhang, "GET", "/api/v1/me/agreements", nil)).Body["items"].([]any)[0].(map[string]any); str(got["status_label"]) != "已签署" {
		t.Fatalf("after signing: %v", got)
	}

	// Console: who signed and who has not; the reminder goes to 李娜 only, once a day.
	q := "/api/v1/projects/" + f.proj + "/agreements?subject_kind=round&subject_id=" + itoa(roundID)
	st := e.must(200, e.do(f.acct, "GET", q, nil)).Body
	if num(st["signed"]) != 1 || num(st["unsigned"]) != 1 || str(st["items"].([]any)[0].(map[string]any)["partner_name"]) != "李娜" {
		t.Fatalf("signing = %v", st)
	}
	e.refusedUnchanged("bad subject kind", 400, "subject_kind_invalid", func() response {
		return e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/agreements/reminders", map[string]any{"subject_kind": "x", "subject_id": roundID})
	})
	rem := e.must(200, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/agreements/reminders",
		map[string]any{"subject_kind": "round", "subject_id": roundID})).Body
	if num(rem["recipients"]) != 1 || rem["queued"] != true {
		t.Fatalf("reminder = %v", rem)
	}
	rem = e.must(200, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/agreements/reminders",
		map[string]any{"subject_kind": "round", "subject_id": roundID})).Body
	if rem["already_sent"] != true {
		t.Fatalf("second reminder = %v", rem)
	}
	e.drain()
	if ns := e.sim.Notices("ag_li"); len(ns) != 1 || !strings.Contains(string(ns[0].Msg), "协议签署提醒") {
		t.Fatalf("李娜's notices: %+v", ns)
	}
	if ns := e.sim.Notices("ag_zhang"); len(ns) != 0 {
		t.Fatalf("张伟 signed and was reminded: %+v", ns)
	}

	// Templates: versioned; stale 409, unknown variable 400, nothing written; the agreement keeps version 1.
	tpls := e.must(200, e.do(f.admin, "GET", "/api/v1/agreement-templates", nil)).Body["items"].([]any)
	if len(tpls) != 2 {
		t.Fatalf("templates: %v", tpls)
	}
	e.refusedUnchanged("stale template", 409, "agreement_template_stale", func() response {
		return e.do(f.admin, "PUT", "/api/v1/agreement-templates/round", map[string]any{"name": "合伙协议", "body": "甲方：{{.partner_name}}", "version": 0})
	})
	e.refusedUnchanged("unknown variable", 400, "agreement_template_invalid", func() response {
		return e.do(f.admin, "PUT", "/api/v1/agreement-templates/round", map[string]any{"name": "合伙协议", "body": "甲方：{{.salary}}", "version": 1})
	})
	e.refusedUnchanged("unknown template", 404, "agreement_template_not_found", func() response {
		return e.do(f.admin, "PUT", "/api/v1/agreement-templates/x", map[string]any{"name": "合伙协议", "body": "甲方", "version": 1})
	})
	v2 := e.must(200, e.do(f.admin, "PUT", "/api/v1/agreement-templates/round",
		map[string]any{"name": "事业合伙协议", "body": "事业合伙协议\n甲方：{{.partner_name}}，本金{{.principal}}元（第二版）", "version": 1})).Body
	if num(v2["version"]) != 2 {
		t.Fatalf("saved template = %v", v2)
	}
	if vs := e.must(200, e.do(f.admin, "GET", "/api/v1/agreement-templates/round/versions", nil)).Body["items"].([]any); len(vs) != 2 {
		t.Fatalf("versions: %v", vs)
	}
	pv := e.must(200, e.do(f.admin, "POST", "/api/v1/agreement-templates/preview",
		map[string]any{"body": str(v2["body"]), "agreement_id": num(ag["id"])})).Body
	if !strings.Contains(str(pv["text"]), "张伟，本金1,234,567.00元（第二版）") {
		t.Fatalf("preview = %v", pv)
	}
	if full2 := e.must(200, e.do(zhang, "GET", "/api/v1/me/agreements/"+id+"/text", nil)).Body; full2["text"] != full["text"] {
		t.Fatal("a new template version changed a generated agreement's text")
	}
}

// An agreed establishment adjustment (R5) gives every partner a
// supplementary agreement (补充协议) with the principal in force after it,
// in the approval's transaction.
func TestAgreementsAfterAnAgreedAdjustment(t *testing.T) {
	e := newEnv(t).withPayoutKey()
	e.startBot()
	f := e.flowWorld()
	e.termsAndPeak(f)
	proj := f.proj
	alloc := map[int64]string{}
	var tokens []string
	for i, n := range []struct{ userid, name string }{{"aa_a", "甲"}, {"aa_b", "乙"}} {
		u := e.partnerUser(n.userid, n.name, "")
		alloc[holdingtest.Partner(t, e.db, u)] = []string{"500000", "300000"}[i]
		tokens = append(tokens, e.signInByAuthCode(n.userid))
	}
	holdingtest.Round(t, e.db, f.projA, "approved", alloc)
	holders := []map[string]string{{"name": "锦艺集团", "kind": "group", "stake": "1"}}
	pc := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+proj+"/peak-changes",
		map[string]any{"new_peak_capital": "200000000", "shareholders": holders, "reason": "规划调整"})).Body
	proc := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+proj+"/processes",
		map[string]any{"kind": "peak_change", "subject_id": num(pc["id"]), "form": map[string]string{"情况说明": "峰值调整"}})).Body
	e.decide(f.acct, num(proc["id"]), str(proc["instance_id"]), "agree")
	adj := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+proj+"/adjustments", map[string]any{})).Body
	adjID := itoa(num(adj["id"]))
	sub := e.must(200, e.do(f.acct, "POST", "/api/v1/adjustments/"+adjID+"/submit", map[string]any{"version": adj["version"]})).Body
	e.must(200, e.do(f.biz, "POST", "/api/v1/adjustments/"+adjID+"/review", map[string]any{"approve": true, "version": sub["version"]}))
	if n := len(e.must(200, e.do(tokens[0], "GET", "/api/v1/me/agreements", nil)).Body["items"].([]any)); n != 0 {
		t.Fatalf("%d agreements before the adjustment is agreed", n)
	}
	ap := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+proj+"/processes",
		map[string]any{"kind": "adjustment", "subject_id": num(adj["id"]), "form": map[string]string{"情况说明": "立项调整"}})).Body
	e.decide(f.acct, num(ap["id"]), str(ap["instance_id"]), "agree")

	lines := map[string]string{}
	for _, l := range adj["lines"].([]any) {
		line := l.(map[string]any)
		lines[str(line["name"])] = str(line["new_principal"])
	}
	for i, name := range []string{"甲", "乙"} {
		items := e.must(200, e.do(tokens[i], "GET", "/api/v1/me/agreements", nil)).Body["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("%s's agreements: %v", name, items)
		}
		ag := items[0].(map[string]any)
		vars := ag["vars"].(map[string]any)
		want := dec(t, lines[name])
		if str(ag["subject_kind"]) != "adjustment" || str(vars["principal"]) != money.Display(want) || str(vars["partner_name"]) != name {
			t.Fatalf("%s's agreement %v, want principal %s", name, ag, money.Display(want))
		}
	}
	st := e.must(200, e.do(f.acct, "GET", "/api/v1/projects/"+proj+"/agreements?subject_kind=adjustment&subject_id="+adjID, nil)).Body
	if num(st["unsigned"]) != 2 {
		t.Fatalf("signing of the adjustment: %v", st)
	}
}
