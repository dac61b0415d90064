package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/template"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/dingtalk"
	"hehuo/internal/text"
)

// Template kinds and message types.
const (
	KindWorkNotice = "work_notice"
	KindRobot      = "robot"

	MsgMarkdown   = "markdown"
	MsgActionCard = "action_card"
	MsgText       = "text"
)

// Variable is one value a template may use. Every variable is the same for
// all recipients of a notice: never a personal figure (DESIGN §8).
type Variable struct {
	Name   string `json:"name"`
	Label  string `json:"label"`
	Sample string `json:"sample"`
}

// linkVar is in every template: the page the notice opens. Callers pass a path
// ("/m/projects/12"); Render makes it absolute with http.public_url.
var linkVar = Variable{"link", "链接（绝对地址，由系统生成）", "/m/"}

// templateVars lists, per template code, the variables its sender provides.
// The code decides them, not the editor: a template may use only these.
var templateVars = map[string][]Variable{
	"subscription_notice": {{"project_name", "项目名称", "常州项目"}, {"round_name", "轮次", "立项"}, {"deadline", "认购截止日", "2026-12-10"}},
	"payment_notice":      {{"project_name", "项目名称", "常州项目"}, {"round_name", "轮次", "立项"}, {"due_date", "缴款截止日", "2026-12-20"}},
	"dunning_notice":      {{"project_name", "项目名称", "常州项目"}, {"due_date", "缴款截止日", "2026-12-20"}, {"sent_on", "催缴日期", "2026-12-15"}},
	"adjustment_notice":   {{"project_name", "项目名称", "常州项目"}, {"adjustment_name", "调整名称", "第1次立项调整"}, {"due_date", "处理截止日", "2027-01-15"}},
	"distribution_notice": {{"project_name", "项目名称", "常州项目"}, {"distribution_name", "分配批次", "第1次利润分配"}, {"distribution_date", "分配日", "2027-06-30"}},
	"disclosure_notice":   {{"project_name", "项目名称", "常州项目"}, {"disclosure_title", "披露标题", "2026年第四季度经营情况"}, {"published_on", "发布日期", "2027-01-10"}},
	"account_confirm_notice": {{"project_name", "项目名称", "常州项目"}, {"distribution_name", "分配批次", "第1次利润分配"},
		{"deadline", "确认截止日", "2027-06-20"}},
	"approval_result": {{"project_name", "项目名称", "常州项目"}, {"process_name", "流程名称", "资金峰值审批"}, {"result", "审批结果", "通过"},
		{"finished_at", "完成时间", "2026-11-26 10:30"}},
	"deadline_missing": {{"project_name", "项目名称", "常州项目"}, {"round_name", "轮次", "立项"}, {"deadline", "认购截止日", "2026-12-10"},
		{"missing_count", "未认购人数", "3"}, {"missing_names", "未认购强投人员", "张三、李四、王五"}},
	"daily_receipts": {{"date", "日期", "2026-11-26"}, {"project_count", "项目数", "2"}, {"receipt_count", "到账笔数", "15"},
		{"total_amount", "到账合计（元）", "1,250,000.00"}},
	"test_message": {{"sent_at", "发送时间", "2026-11-26 10:30:00"}, {"operator", "发送人", "系统管理员"}},
	"subscription_sent": {{"project_name", "项目名称", "常州项目"}, {"round_name", "轮次", "立项"}, {"partner_count", "通知人数", "4"},
		{"deadline", "认购截止日", "2026-12-10"}},
	"round_review": {{"project_name", "项目名称", "常州项目"}, {"round_name", "轮次", "立项"}, {"result", "审核结果", "通过"},
		{"reviewer", "审核人", "业务管理员"}, {"reason", "意见", "同意"}},
	"payments_overdue": {{"project_name", "项目名称", "常州项目"}, {"round_name", "轮次", "立项"}, {"due_date", "缴款截止日", "2026-12-20"},
		{"overdue_count", "逾期未缴人数", "2"}, {"overdue_names", "逾期未缴人员", "张三、李四"}},
	"exit_candidates":         {{"names", "离职仍持有份额人员", "张三、李四"}},
	"agreement_sign_reminder": {{"project_name", "项目名称", "常州项目"}, {"round_name", "轮次", "立项"}, {"sent_on", "提醒日期", "2026-12-15"}},
}

// Variables returns the variables a template may use, link included.
func Variables(code string) []Variable {
	vs, ok := templateVars[code]
	if !ok {
		return nil
	}
	return append(append([]Variable{}, vs...), linkVar)
}

// SampleData is the data Preview and the save check render with.
func SampleData(code string) map[string]any {
	out := map[string]any{}
	for _, v := range Variables(code) {
		out[v.Name] = v.Sample
	}
	return out
}

// Template is a notice template (模板管理).
type Template struct {
	Code      string     `db:"code" json:"code"`
	Name      string     `db:"name" json:"name"`
	Kind      string     `db:"kind" json:"kind"`
	MsgType   string     `db:"msg_type" json:"msg_type"`
	Title     string     `db:"title" json:"title"`
	Body      string     `db:"body" json:"body"`
	Version   int        `db:"version" json:"version"`
	UpdatedBy string     `db:"updated_by" json:"updated_by"`
	UpdatedAt time.Time  `db:"updated_at" json:"updated_at"`
	Variables []Variable `db:"-" json:"variables"`
}

// TemplateInput changes a template's editable parts; Version is the one read.
type TemplateInput struct {
	Name    string `json:"name"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	Version int    `json:"version"`
}

// Rendered is a template filled in: what DingTalk will show.
type Rendered struct {
	Code        string `json:"code"`
	Kind        string `json:"kind"`
	MsgType     string `json:"msg_type"`
	Title       string `json:"title"`
	Text        string `json:"text"`
	ButtonTitle string `json:"button_title,omitempty"`
	URL         string `json:"url"`
}

// buttonTitle is the action card's single button.
const buttonTitle = "查看详情"

// maxRenderedBytes keeps a notice under DingTalk's 2048-byte message limit
// with room for longer project names than the samples.
const maxRenderedBytes = 1500

// Message returns the rendered notice in DingTalk's shapes.
func (r Rendered) Message() dingtalk.Message {
	switch r.MsgType {
	case MsgActionCard:
		return dingtalk.ActionCard(r.Title, r.Text, r.ButtonTitle, r.URL)
	case MsgText:
		return dingtalk.Text(r.Text)
	default:
		return dingtalk.Markdown(r.Title, r.Text)
	}
}

const templateColumns = `code, name, kind, msg_type, title, body, version, updated_by, updated_at`

// Templates returns every template, in code order.
func (s *Service) Templates(ctx context.Context) ([]Template, error) {
	ts := []Template{}
	if err := s.db.SelectContext(ctx, &ts, `SELECT `+templateColumns+` FROM notify_templates ORDER BY kind DESC, code`); err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	for i := range ts {
		ts[i].Variables = Variables(ts[i].Code)
	}
	return ts, nil
}

// Template returns one template.
func (s *Service) Template(ctx context.Context, code string) (Template, error) {
	return getTemplate(ctx, s.db, code, false)
}

func getTemplate(ctx context.Context, q sqlx.QueryerContext, code string, lock bool) (Template, error) {
	var t Template
	query := `SELECT ` + templateColumns + ` FROM notify_templates WHERE code = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	err := sqlx.GetContext(ctx, q, &t, query, code)
	if db.IsNoRows(err) {
		return t, apperr.NotFound("template_not_found", "通知模板不存在")
	}
	if err != nil {
		return t, fmt.Errorf("get template %s: %w", code, err)
	}
	t.Variables = Variables(code)
	return t, nil
}

// SaveTemplate changes a template's name, title and body. A template that does
// not parse, or does not render with the sample data (an unknown variable, a
// missing link), is refused, so the dispatcher never meets a broken one.
func (s *Service) SaveTemplate(ctx context.Context, a audit.Actor, code string, in TemplateInput) (Template, error) {
	if in.Version <= 0 {
		return Template{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	name, err := text.Clean(in.Name, "name", "模板名称", true, 30)
	if err != nil {
		return Template{}, err
	}
	title, err := text.Clean(in.Title, "title", "标题", false, 100)
	if err != nil {
		return Template{}, err
	}
	body := strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n"))
	if body == "" {
		return Template{}, apperr.Invalid("required", "body", "请填写正文")
	}
	if len([]rune(body)) > 2000 {
		return Template{}, apperr.Invalid("too_long", "body", "正文不能超过2000个字")
	}
	var after Template
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		before, err := getTemplate(ctx, tx, code, true)
		if err != nil {
			return err
		}
		if before.Version != in.Version {
			return apperr.ErrStaleVersion
		}
		if before.MsgType != MsgText && title == "" {
			return apperr.Invalid("required", "title", "请填写标题")
		}
		cand := before
		cand.Name, cand.Title, cand.Body = name, title, body
		r, err := s.render(cand, SampleData(code))
		if err != nil {
			return err
		}
		if n := len(r.Title) + len(r.Text); n > maxRenderedBytes {
			return apperr.Invalid("template_too_long", "body", "按示例数据渲染后消息有%d字节，超过%d字节（钉钉单条消息上限2048字节）", n, maxRenderedBytes)
		}
		err = tx.GetContext(ctx, &after, `UPDATE notify_templates SET name = $1, title = $2, body = $3,
			version = version + 1, updated_by = $4, updated_at = now() WHERE code = $5 RETURNING `+templateColumns,
			name, title, body, actorName(a), code)
		if err != nil {
			return fmt.Errorf("update template %s: %w", code, err)
		}
		after.Variables = Variables(code)
		return audit.Record(ctx, tx, a, audit.Entry{Action: "notify_template.update", Entity: "notify_template", EntityID: code,
			Before: templateAudit(before), After: templateAudit(after)})
	})
	return after, err
}

// templateAudit is what the audit log keeps of a template.
func templateAudit(t Template) map[string]any {
	return map[string]any{"code": t.Code, "name": t.Name, "title": t.Title, "body": t.Body, "version": t.Version}
}

func actorName(a audit.Actor) string {
	if a.Name == "" {
		return audit.System.Name
	}
	return a.Name
}

// Preview renders a template with data, or with its sample data when data is nil.
func (s *Service) Preview(ctx context.Context, code string, data map[string]any) (Rendered, error) {
	t, err := s.Template(ctx, code)
	if err != nil {
		return Rendered{}, err
	}
	if data == nil {
		data = SampleData(code)
	}
	return s.render(t, data)
}

// PreviewDraft renders an edited, unsaved title and body of template code
// with data (sample data when nil), so the editor can see a change before
// saving it; it changes nothing.
func (s *Service) PreviewDraft(ctx context.Context, code, title, body string, data map[string]any) (Rendered, error) {
	t, err := s.Template(ctx, code)
	if err != nil {
		return Rendered{}, err
	}
	t.Title, t.Body = title, body
	if strings.TrimSpace(body) == "" {
		return Rendered{}, apperr.Invalid("required", "body", "请填写正文")
	}
	if data == nil {
		data = SampleData(code)
	}
	return s.render(t, data)
}

// Render fills in the template code with data and returns the DingTalk
// message. The dispatcher calls it once per notice; the result is the same
// for every recipient.
func (s *Service) Render(ctx context.Context, code string, data map[string]any) (dingtalk.Message, error) {
	t, err := s.Template(ctx, code)
	if err != nil {
		return dingtalk.Message{}, fmt.Errorf("render %s: %w", code, err)
	}
	r, err := s.render(t, data)
	if err != nil {
		return dingtalk.Message{}, fmt.Errorf("render %s: %w", code, err)
	}
	return r.Message(), nil
}

// render executes t's title and body over data, escaped for t's message type.
func (s *Service) render(t Template, data map[string]any) (Rendered, error) {
	link, err := s.absoluteLink(data["link"])
	if err != nil {
		return Rendered{}, err
	}
	vals := make(map[string]any, len(data)+1)
	for k, v := range data {
		if k == "link" {
			continue
		}
		vals[k] = escapeValue(t.MsgType, v)
	}
	vals["link"] = link
	if t.MsgType != MsgText {
		// Inside markdown the link sits in "(...)": keep it from closing early.
		vals["link"] = markdownURL(link)
	}
	title, err := execute(t.Code+".title", t.Title, vals)
	if err != nil {
		return Rendered{}, apperr.Invalid("template_invalid", "title", "标题模板有误：%s", templateError(err))
	}
	body, err := execute(t.Code+".body", t.Body, vals)
	if err != nil {
		return Rendered{}, apperr.Invalid("template_invalid", "body", "正文模板有误：%s", templateError(err))
	}
	r := Rendered{Code: t.Code, Kind: t.Kind, MsgType: t.MsgType, Title: strings.TrimSpace(title), Text: strings.TrimSpace(body), URL: link}
	if t.MsgType == MsgActionCard {
		r.ButtonTitle = buttonTitle
	}
	if r.Text == "" {
		return Rendered{}, apperr.Invalid("template_invalid", "body", "正文渲染后为空")
	}
	return r, nil
}

func execute(name, src string, data map[string]any) (string, error) {
	tpl, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return "", err
	}
	w := &limitedWriter{max: maxOutputBytes}
	if err := tpl.Execute(w, data); err != nil {
		return "", err
	}
	return w.b.String(), nil
}

// maxOutputBytes stops a template that would write without end (a
// "{{range 1000000000}}" loop) long before it costs memory.
const maxOutputBytes = 16 << 10

var errOutputTooLong = errors.New("渲染结果过长")

type limitedWriter struct {
	b   bytes.Buffer
	max int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > w.max {
		return 0, errOutputTooLong
	}
	return w.b.Write(p)
}

// templateError words a text/template error for the editor: the unknown
// variable when that is the cause, else Go's message without the template name.
func templateError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, `map has no entry for key "`); i >= 0 {
		key := strings.TrimSuffix(msg[i+len(`map has no entry for key "`):], `"`)
		return fmt.Sprintf("变量 %s 不在可用变量之列", key)
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

// absoluteLink turns a link variable into an absolute URL: a path is put
// under http.public_url; an absolute http(s) URL is kept; nothing means the
// H5 home page.
func (s *Service) absoluteLink(v any) (string, error) {
	link, _ := v.(string)
	base := strings.TrimRight(s.cfg.HTTP.PublicURL, "/")
	if base == "" {
		// As config.Load defaults it, for a configuration built in code.
		base = "http://" + s.cfg.HTTP.Addr
	}
	switch {
	case link == "":
		return base + "/m/", nil
	case strings.HasPrefix(link, "/") && !strings.HasPrefix(link, "//"):
		return base + link, nil
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", apperr.Invalid("link_invalid", "link", "链接须为以 / 开头的路径或 http(s) 地址")
	}
	return link, nil
}

// markdownURL escapes the characters that would end a markdown link target.
func markdownURL(u string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E").Replace(u)
}

// markdownEscaper swaps the characters that carry meaning in DingTalk's
// markdown for their full-width twins. Backslash escapes are not reliably
// honoured by DingTalk's renderer, and full-width forms read naturally in
// Chinese text, so a project named "[领奖](http://x)" shows as typed and
// cannot become a link, image, heading or emphasis. Newlines become spaces so
// a value cannot start a block of its own.
var markdownEscaper = strings.NewReplacer(
	"[", "［", "]", "］", "(", "（", ")", "）", "*", "＊", "_", "＿", "#", "＃", "!", "！",
	"`", "｀", "<", "＜", ">", "＞", "|", "｜", "~", "～", "\\", "＼",
	"\r\n", " ", "\n", " ", "\r", " ",
)

// textEscaper keeps a value on one line in a plain-text notice.
var textEscaper = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// escapeValue formats a variable for the message type; values never carry markup.
func escapeValue(msgType string, v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		s = ""
	case string:
		s = x
	case time.Time:
		s = x.Format("2006-01-02 15:04")
	default:
		s = fmt.Sprint(x)
	}
	if msgType == MsgText {
		return textEscaper.Replace(s)
	}
	return markdownEscaper.Replace(s)
}
