package agreement

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/text"
)

// Template is one version of an agreement template. Versions are
// immutable: saving a template creates the next version, and agreements
// keep the version they were generated from.
type Template struct {
	ID            int64     `json:"id" db:"id"`
	Code          string    `json:"code" db:"code"`
	CodeLabel     string    `json:"code_label" db:"-"`
	Version       int       `json:"version" db:"version"`
	Name          string    `json:"name" db:"name"`
	Body          string    `json:"body" db:"body"`
	CreatedByName string    `json:"created_by_name" db:"created_by_name"`
	CreatedAt     time.Time `json:"created_at" db:"created_at"`
	// Variables are what the body may use ({{.name}}).
	Variables []Variable `json:"variables" db:"-"`
}

// CodeLabels name the templates: the agreement of a round and the
// supplementary agreement of an adjustment.
var CodeLabels = map[string]string{SubjectRound: "合伙协议（立项/补充立项）", SubjectAdjustment: "补充协议（立项调整）"}

// Codes are the template codes in display order.
var Codes = []string{SubjectRound, SubjectAdjustment}

func (t *Template) fill() {
	t.CodeLabel = CodeLabels[t.Code]
	t.Variables = Variables
}

const selectTemplate = `SELECT id, code, version, name, body, created_by_name, created_at FROM agreement_templates`

// current returns the latest version of template code.
func current(ctx context.Context, q sqlx.QueryerContext, code string) (Template, error) {
	var t Template
	err := sqlx.GetContext(ctx, q, &t, selectTemplate+` WHERE code = $1 ORDER BY version DESC LIMIT 1`, code)
	if db.IsNoRows(err) {
		return t, errTemplateNotFound
	}
	if err != nil {
		return t, fmt.Errorf("agreement template %s: %w", code, err)
	}
	t.fill()
	return t, nil
}

var errTemplateNotFound = apperr.NotFound("agreement_template_not_found", "协议模板不存在")

// Templates returns the current version of every template.
func (s *Service) Templates(ctx context.Context) ([]Template, error) {
	out := []Template{}
	for _, c := range Codes {
		t, err := current(ctx, s.db, c)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Versions returns every version of template code, newest first.
func (s *Service) Versions(ctx context.Context, code string) ([]Template, error) {
	if _, ok := CodeLabels[code]; !ok {
		return nil, errTemplateNotFound
	}
	out := []Template{}
	if err := s.db.SelectContext(ctx, &out, selectTemplate+` WHERE code = $1 ORDER BY version DESC`, code); err != nil {
		return nil, fmt.Errorf("agreement template versions: %w", err)
	}
	for i := range out {
		out[i].fill()
	}
	return out, nil
}

// TemplateInput is the body of PUT /agreement-templates/{code}: the new
// name and body, and the version edited (stale → 409).
type TemplateInput struct {
	Name    string `json:"name"`
	Body    string `json:"body"`
	Version int    `json:"version"`
}

// maxBody bounds a template body (characters).
const maxBody = 20000

func checkTemplate(in TemplateInput) (name, body string, err error) {
	if name, err = text.Clean(in.Name, "name", "模板名称", true, 60); err != nil {
		return "", "", err
	}
	if body, err = text.CleanNote(in.Body, "body", "协议正文", true, maxBody); err != nil {
		return "", "", err
	}
	if _, err := render(body, SampleVars(), false); err != nil {
		return "", "", err
	}
	return name, body, nil
}

// SaveTemplate stores a new version of template code; in.Version must be
// the current version (409 agreement_template_stale otherwise). Agreements
// already generated keep their version.
func (s *Service) SaveTemplate(ctx context.Context, a audit.Actor, code string, in TemplateInput) (Template, error) {
	if _, ok := CodeLabels[code]; !ok {
		return Template{}, errTemplateNotFound
	}
	name, body, err := checkTemplate(in)
	if err != nil {
		return Template{}, err
	}
	var out Template
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('agreement_template:' || $1))`, code); err != nil {
			return fmt.Errorf("lock agreement template: %w", err)
		}
		cur, err := current(ctx, tx, code)
		if err != nil {
			return err
		}
		if in.Version != cur.Version {
			return apperr.Conflict("agreement_template_stale", "模板已被他人修改（当前为第%d版），请刷新后再改", cur.Version)
		}
		if err := tx.GetContext(ctx, &out, `INSERT INTO agreement_templates (code, version, name, body, created_by_name)
			VALUES ($1, $2, $3, $4, $5) RETURNING id, code, version, name, body, created_by_name, created_at`,
			code, cur.Version+1, name, body, actorName(a)); err != nil {
			return fmt.Errorf("save agreement template: %w", err)
		}
		out.fill()
		return audit.Record(ctx, tx, a, audit.Entry{Action: "agreement_template.save", Entity: "agreement_template",
			EntityID: out.ID, Before: cur, After: out})
	})
	return out, err
}

func actorName(a audit.Actor) string {
	if a.Name == "" {
		return audit.System.Name
	}
	return a.Name
}

// PreviewInput is the body of POST /agreement-templates/preview: a body
// (the one being edited) rendered with the sample variables, or with the
// snapshot of agreement AgreementID when given.
type PreviewInput struct {
	Body        string `json:"body"`
	AgreementID int64  `json:"agreement_id"`
}

// Preview is a rendered body.
type Preview struct {
	Text string `json:"text"`
	Vars Vars   `json:"vars"`
}

// Preview renders in.Body with sample data or a real agreement's snapshot.
func (s *Service) Preview(ctx context.Context, in PreviewInput) (Preview, error) {
	body, err := text.CleanNote(in.Body, "body", "协议正文", true, maxBody)
	if err != nil {
		return Preview{}, err
	}
	vars := SampleVars()
	if in.AgreementID != 0 {
		as, err := selectAgreements(ctx, s.db, `WHERE a.id = $1`, in.AgreementID)
		if err != nil {
			return Preview{}, err
		}
		if len(as) == 0 {
			return Preview{}, ErrNotFound
		}
		vars = as[0].Vars
	}
	out, err := render(body, vars, false)
	return Preview{Text: out, Vars: vars}, err
}

var parsed sync.Map // body → *template.Template

// render executes body over vars; an unknown variable or a syntax error is
// 422 agreement_template_invalid. cache keeps the parsed body (stored
// template versions only, so the cache is bounded by the versions saved).
func render(body string, vars Vars, cache bool) (string, error) {
	var t *template.Template
	if v, ok := parsed.Load(body); ok && cache {
		t = v.(*template.Template)
	} else {
		var err error
		t, err = template.New("agreement").Option("missingkey=error").Parse(body)
		if err != nil {
			return "", apperr.Invalid("agreement_template_invalid", "body", "协议正文格式有误：%s", shortErr(err))
		}
		if cache {
			parsed.Store(body, t)
		}
	}
	data := map[string]string(vars)
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", apperr.Invalid("agreement_template_invalid", "body", "协议正文使用了未知变量或格式有误：%s", shortErr(err))
	}
	return b.String(), nil
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// Render renders a template body over vars, as agreements are rendered.
func Render(body string, vars Vars) (string, error) { return render(body, vars, true) }
