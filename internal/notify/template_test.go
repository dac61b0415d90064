package notify

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/config"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dingtalk"
)

// newTemplateService is a notify service over a fresh database, with no
// DingTalk behind it: rendering never calls out.
func newTemplateService(t *testing.T) *Service {
	t.Helper()
	d := dbtest.New(t)
	cfg := config.Default()
	cfg.HTTP.PublicURL = "https://hehuo.example.com/"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return NewService(d, dingtalk.New(cfg.DingTalk, cachetest.New(t)), cfg, log)
}

func TestEverySeededTemplateRendersItsSample(t *testing.T) {
	s := newTemplateService(t)
	ctx := context.Background()
	ts, err := s.Templates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"subscription_notice", "payment_notice", "dunning_notice", "adjustment_notice", "distribution_notice",
		"disclosure_notice", "account_confirm_notice", "approval_result", "deadline_missing", "daily_receipts", "test_message",
		"subscription_sent", "round_review", "payments_overdue", "exit_candidates",
		"agreement_sign_reminder"}
	if len(ts) != len(want) {
		t.Fatalf("%d templates, want %d", len(ts), len(want))
	}
	for _, code := range want {
		tpl, err := s.Template(ctx, code)
		if err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		if len(tpl.Variables) == 0 || tpl.Variables[len(tpl.Variables)-1].Name != "link" {
			t.Errorf("%s: variables %v lack link", code, tpl.Variables)
		}
		r, err := s.Preview(ctx, code, nil)
		if err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		if strings.Contains(r.Text, "{{") || strings.Contains(r.Title, "{{") || strings.Contains(r.Text, "<no value>") {
			t.Errorf("%s: unrendered text %q / %q", code, r.Title, r.Text)
		}
		if !strings.HasPrefix(r.URL, "https://hehuo.example.com/m/") {
			t.Errorf("%s: url %q is not absolute under the public URL", code, r.URL)
		}
		if msg := r.Message(); msg.Validate() != nil {
			t.Errorf("%s: message %+v invalid: %v", code, msg, msg.Validate())
		}
	}
}

func TestRenderFillsTheTemplate(t *testing.T) {
	s := newTemplateService(t)
	msg, err := s.Render(context.Background(), "payment_notice", map[string]any{
		"project_name": "昆明-城市之光", "round_name": "补充立项", "due_date": "2026-12-31", "link": "/m/projects/7/payment",
	})
	if err != nil {
		t.Fatal(err)
	}
	if msg.Kind != dingtalk.KindActionCard || msg.Title != "缴款通知：昆明-城市之光" || msg.ButtonTitle != "查看详情" {
		t.Fatalf("message = %+v", msg)
	}
	if msg.URL != "https://hehuo.example.com/m/projects/7/payment" {
		t.Fatalf("url = %q", msg.URL)
	}
	if !strings.Contains(msg.Text, "昆明-城市之光 补充立项缴款通知") || !strings.Contains(msg.Text, "**2026-12-31**") {
		t.Fatalf("text = %q", msg.Text)
	}
	// A robot markdown carries the link inside the text.
	msg, err = s.Render(context.Background(), "approval_result", map[string]any{
		"project_name": "常州项目", "process_name": "资金峰值审批", "result": "通过", "finished_at": "2026-11-26 10:00", "link": "/establishment?project=3",
	})
	if err != nil {
		t.Fatal(err)
	}
	if msg.Kind != dingtalk.KindMarkdown || !strings.Contains(msg.Text, "[查看详情](https://hehuo.example.com/establishment?project=3)") {
		t.Fatalf("robot markdown = %+v", msg)
	}
}

func TestRenderRefusesMissingVariables(t *testing.T) {
	s := newTemplateService(t)
	_, err := s.Render(context.Background(), "payment_notice", map[string]any{"project_name": "常州项目", "round_name": "立项"})
	if e := apperr.As(err); e == nil || e.Code != "template_invalid" || !strings.Contains(e.Message, "due_date") {
		t.Fatalf("missing due_date: %v, want template_invalid naming due_date", err)
	}
	if _, err := s.Render(context.Background(), "no_such", nil); apperr.As(err) == nil || apperr.As(err).Code != "template_not_found" {
		t.Fatalf("unknown code: %v", err)
	}
	if _, err := s.Render(context.Background(), "test_message", map[string]any{"sent_at": "x", "operator": "y", "link": "javascript:alert(1)"}); apperr.As(err) == nil || apperr.As(err).Code != "link_invalid" {
		t.Fatalf("javascript link: %v, want link_invalid", err)
	}
}

// A project name full of markdown cannot add a link, an image, a heading or
// emphasis to a notice, nor break out of the link's parentheses.
func TestMarkdownInjectionIsHarmless(t *testing.T) {
	s := newTemplateService(t)
	evil := "[领奖](http://evil.example)\n# 标题 ![x](http://t.example/p.png) **粗** <b>x</b> `code` _i_"
	msg, err := s.Render(context.Background(), "approval_result", map[string]any{
		"project_name": evil, "process_name": "流程", "result": "通过", "finished_at": "今天", "link": "/m/x) [y](http://evil.example",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"](http://evil", "![", "\n# 标题", "**粗**", "<b>", "`code`", "_i_"} {
		if strings.Contains(msg.Text, bad) || strings.Contains(msg.Title, bad) {
			t.Errorf("markup %q survived in %q", bad, msg.Text)
		}
	}
	if !strings.Contains(msg.Text, "［领奖］（http://evil.example）") {
		t.Errorf("project name not shown as typed (full-width): %q", msg.Text)
	}
	if !strings.Contains(msg.Text, "(https://hehuo.example.com/m/x%29%20[y]%28http://evil.example)") {
		t.Errorf("link not kept inside its parentheses: %q", msg.Text)
	}
	// Plain text keeps the characters but not the line breaks.
	r, err := s.render(Template{Code: "x", MsgType: MsgText, Body: "项目：{{.p}}"}, map[string]any{"p": "a\nb*c"})
	if err != nil || r.Text != "项目：a b*c" {
		t.Fatalf("text render = %q, %v", r.Text, err)
	}
}

func TestSaveTemplate(t *testing.T) {
	s := newTemplateService(t)
	ctx := context.Background()
	admin := audit.Actor{Name: "系统管理员"}
	tpl, _ := s.Template(ctx, "dunning_notice")
	in := TemplateInput{Name: "催缴通知", Title: "请尽快缴款：{{.project_name}}（{{.sent_on}}）", Body: "{{.project_name}} 缴款截止 {{.due_date}}。[查看]({{.link}})", Version: tpl.Version}
	saved, err := s.SaveTemplate(ctx, admin, "dunning_notice", in)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Version != tpl.Version+1 || saved.Title != in.Title || saved.UpdatedBy != "系统管理员" {
		t.Fatalf("saved = %+v", saved)
	}
	var n int
	s.db.Get(&n, `SELECT count(*) FROM audit_log WHERE action = 'notify_template.update' AND entity_id = 'dunning_notice'`)
	if n != 1 {
		t.Fatalf("%d audit entries, want 1", n)
	}
	// The same version again is stale.
	if _, err := s.SaveTemplate(ctx, admin, "dunning_notice", in); !errors.Is(err, apperr.ErrStaleVersion) {
		t.Fatalf("stale save: %v", err)
	}
	cases := []struct {
		name, title, body, code string
	}{
		{"parse error", "t", "{{.project_name", "template_invalid"},
		{"unknown variable", "t", "{{.amount}} 元", "template_invalid"},
		{"personal figure is not a variable", "t", "您应缴 {{.payable_amount}}", "template_invalid"},
		{"bad title", "{{if}}", "x", "template_invalid"},
		{"empty body", "t", "  ", "required"},
		{"empty title", "", "x", "required"},
		{"angle brackets in title", "<b>t</b>", "x", "angle_brackets"},
		{"too long", "t", strings.Repeat("长", 1400), "template_too_long"},
		{"endless output", "t", "{{range 1000000000}}很长的正文{{end}}", "template_invalid"},
		{"endless recursion", "t", `{{define "a"}}x{{template "a"}}{{end}}{{template "a"}}`, "template_invalid"},
	}
	for _, c := range cases {
		_, err := s.SaveTemplate(ctx, admin, "dunning_notice", TemplateInput{Name: "催缴通知", Title: c.title, Body: c.body, Version: saved.Version})
		if e := apperr.As(err); e == nil || e.Code != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	if e := apperr.As(func() error {
		_, err := s.SaveTemplate(ctx, admin, "dunning_notice", TemplateInput{Name: "x", Title: "t", Body: "{{.amount}}", Version: saved.Version})
		return err
	}()); e == nil || !strings.Contains(e.Message, "变量 amount 不在可用变量之列") {
		t.Errorf("unknown variable message: %v", e)
	}
	after, _ := s.Template(ctx, "dunning_notice")
	if after.Version != saved.Version || after.Body != saved.Body {
		t.Fatal("a refused save changed the template")
	}
}
