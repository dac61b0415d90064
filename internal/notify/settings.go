package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/dingtalk"
	"hehuo/internal/secret"
)

// appSecretPurpose binds the sealed app secret to this use.
const appSecretPurpose = "dingtalk_app_secret"

// secretBox returns the box for HEHUO_SECRET_KEY; in demo mode without a key,
// the public demo key, with a warning logged once.
func secretBox(cfg config.Config, log *slog.Logger) (*secret.Box, error) {
	return secret.Configured(cfg.SecretKey, cfg.Demo, log, "secret", "无法保存密钥")
}

func (s *Service) sealSecret(purpose, plain string) (string, error) {
	box, err := secretBox(s.cfg, s.log)
	if err != nil {
		return "", err
	}
	return box.Seal(purpose, plain)
}

func (s *Service) openSecret(purpose, sealed string) (string, error) {
	box, err := secretBox(s.cfg, s.log)
	if err != nil {
		return "", err
	}
	return box.Open(purpose, sealed)
}

// TestResult is what a test send produced.
type TestResult struct {
	Rendered  Rendered              `json:"rendered"`
	Recipient string                `json:"recipient"`
	Tasks     []dingtalk.NoticeTask `json:"tasks"`
}

// testData is a template's sample data, marked as a test and stamped with the
// time: DingTalk silently drops identical content sent to a user twice in a
// day, so two tests must differ.
func (s *Service) testData(code string, a audit.Actor) map[string]any {
	data := SampleData(code)
	now := time.Now().In(chinaTime)
	if code == "test_message" {
		data["sent_at"] = now.Format("2006-01-02 15:04:05")
		data["operator"] = actorName(a)
	}
	return data
}

var chinaTime = time.FixedZone("CST", 8*3600)

// testMessage renders the test_message template for the operator.
func (s *Service) testMessage(ctx context.Context, a audit.Actor) (Rendered, error) {
	t, err := s.Template(ctx, "test_message")
	if err != nil {
		return Rendered{}, err
	}
	return s.render(t, s.testData("test_message", a))
}

// TestSend renders template code with its sample data and sends it as a work
// notice only to the operator, directly through the client (not the outbox),
// so the system admin sees exactly what partners will see (测试消息).
func (s *Service) TestSend(ctx context.Context, a audit.Actor, userDingTalkID, code string) (TestResult, error) {
	if strings.TrimSpace(userDingTalkID) == "" {
		return TestResult{}, apperr.Rule("dingtalk_userid_missing", "", "您的账号未绑定钉钉 userid，无法接收测试消息；请先在「账号及角色」中填写钉钉 userid")
	}
	t, err := s.Template(ctx, code)
	if err != nil {
		return TestResult{}, err
	}
	r, err := s.render(t, s.testData(code, a))
	if err != nil {
		return TestResult{}, err
	}
	if code != "test_message" {
		r.Title = "【测试】" + r.Title
		r.Text += "\n\n（测试消息，发送于 " + time.Now().In(chinaTime).Format("15:04:05") + "）"
	}
	tasks, err := s.client.SendWorkNotice(ctx, []string{userDingTalkID}, r.Message())
	if err != nil {
		return TestResult{}, workNoticeError(err, userDingTalkID)
	}
	s.log.InfoContext(ctx, "test notice sent", "template", code, "actor", a.Name)
	return TestResult{Rendered: r, Recipient: userDingTalkID, Tasks: tasks}, nil
}

// workNoticeError words a failed test work notice for the operator.
func workNoticeError(err error, userID string) error {
	fail := func(code, format string, args ...any) error {
		e := apperr.Rule(code, "", format, args...)
		e.Err = err
		return e
	}
	var de *dingtalk.Error
	switch {
	case !errors.As(err, &de):
		return fail("dingtalk_unreachable", "无法连接钉钉，请检查钉钉接口地址和网络")
	case dingtalk.IsUserNotFound(err):
		return fail("dingtalk_user_not_found", "钉钉中找不到您的 userid（%s），请核对账号的钉钉 userid", userID)
	case dingtalk.IsThrottled(err):
		return fail("dingtalk_throttled", "钉钉接口调用过于频繁，请稍后再试")
	}
	return fail("dingtalk_send_failed", "钉钉拒绝了测试消息：%s %s", de.Code, de.Message)
}

// DingTalkSettings is the 钉钉设置 page: the values saved in the console
// (empty meaning "as configured"), the values the running process uses, and
// whether an app secret is set — the secret itself is never returned.
type DingTalkSettings struct {
	Saved   DingTalkApp `json:"saved"`
	Running DingTalkApp `json:"running"`
	// AppliesAtRestart: saved settings take effect at the next start, when
	// the client is built (notify.EffectiveDingTalk); the page says so.
	AppliesAtRestart bool      `json:"applies_at_restart"`
	SecretKeySet     bool      `json:"secret_key_set"`
	Version          int       `json:"version"`
	UpdatedBy        string    `json:"updated_by"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// DingTalkApp is the DingTalk app's settings as the page shows them.
type DingTalkApp struct {
	CorpID       string `json:"corp_id"`
	AppKey       string `json:"app_key"`
	AgentID      string `json:"agent_id"`
	RobotCode    string `json:"robot_code"`
	APIBase      string `json:"api_base"`
	OAPIBase     string `json:"oapi_base"`
	LoginBase    string `json:"login_base"`
	Stream       *bool  `json:"stream"`
	AppSecretSet bool   `json:"app_secret_set"`
}

// DingTalkSettingsInput saves the settings. Empty strings and a nil Stream
// fall back to the configuration; a nil AppSecret keeps the stored one and
// an empty one clears it.
type DingTalkSettingsInput struct {
	CorpID    string  `json:"corp_id"`
	AppKey    string  `json:"app_key"`
	AgentID   string  `json:"agent_id"`
	RobotCode string  `json:"robot_code"`
	APIBase   string  `json:"api_base"`
	OAPIBase  string  `json:"oapi_base"`
	LoginBase string  `json:"login_base"`
	Stream    *bool   `json:"stream"`
	AppSecret *string `json:"app_secret"`
	Version   int     `json:"version"`
}

type settingsRow struct {
	CorpID       string    `db:"corp_id"`
	AppKey       string    `db:"app_key"`
	AgentID      string    `db:"agent_id"`
	RobotCode    string    `db:"robot_code"`
	APIBase      string    `db:"api_base"`
	OAPIBase     string    `db:"oapi_base"`
	LoginBase    string    `db:"login_base"`
	Stream       *bool     `db:"stream"`
	AppSecretEnc string    `db:"app_secret_enc"`
	Version      int       `db:"version"`
	UpdatedBy    string    `db:"updated_by"`
	UpdatedAt    time.Time `db:"updated_at"`
}

const settingsColumns = `corp_id, app_key, agent_id, robot_code, api_base, oapi_base, login_base, stream, app_secret_enc, version, updated_by, updated_at`

func getSettings(ctx context.Context, q sqlx.QueryerContext, lock bool) (settingsRow, error) {
	var r settingsRow
	query := `SELECT ` + settingsColumns + ` FROM dingtalk_settings`
	if lock {
		query += ` FOR UPDATE`
	}
	if err := sqlx.GetContext(ctx, q, &r, query); err != nil {
		return r, fmt.Errorf("read dingtalk settings: %w", err)
	}
	return r, nil
}

func (r settingsRow) app() DingTalkApp {
	return DingTalkApp{CorpID: r.CorpID, AppKey: r.AppKey, AgentID: r.AgentID, RobotCode: r.RobotCode, APIBase: r.APIBase,
		OAPIBase: r.OAPIBase, LoginBase: r.LoginBase, Stream: r.Stream, AppSecretSet: r.AppSecretEnc != ""}
}

// DingTalkSettings returns the 钉钉设置 page's data.
func (s *Service) DingTalkSettings(ctx context.Context) (DingTalkSettings, error) {
	r, err := getSettings(ctx, s.db, false)
	if err != nil {
		return DingTalkSettings{}, err
	}
	d := s.cfg.DingTalk
	stream := d.Stream
	return DingTalkSettings{
		Saved: r.app(),
		Running: DingTalkApp{CorpID: d.CorpID, AppKey: d.AppKey, AgentID: d.AgentID, RobotCode: d.RobotCode, APIBase: d.APIBase,
			OAPIBase: d.OAPIBase, LoginBase: d.LoginBase, Stream: &stream, AppSecretSet: d.AppSecret != ""},
		AppliesAtRestart: true, SecretKeySet: s.cfg.SecretKey != "",
		Version: r.Version, UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt,
	}, nil
}

// SaveDingTalkSettings stores the console's overrides of the DingTalk app
// settings, the app secret sealed. They take effect at the next start.
func (s *Service) SaveDingTalkSettings(ctx context.Context, a audit.Actor, in DingTalkSettingsInput) (DingTalkSettings, error) {
	if in.Version <= 0 {
		return DingTalkSettings{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	ids := []struct {
		v           *string
		field, name string
	}{{&in.CorpID, "corp_id", "CorpId"}, {&in.AppKey, "app_key", "AppKey"}, {&in.AgentID, "agent_id", "AgentId"}, {&in.RobotCode, "robot_code", "RobotCode"}}
	for _, f := range ids {
		*f.v = strings.TrimSpace(*f.v)
		if len(*f.v) > 100 || strings.ContainsAny(*f.v, " \t\r\n<>\"'") {
			return DingTalkSettings{}, apperr.Invalid("dingtalk_setting_invalid", f.field, "%s 格式不正确（不能含空格或引号，最多100个字符）", f.name)
		}
	}
	if in.AgentID != "" && strings.Trim(in.AgentID, "0123456789") != "" {
		return DingTalkSettings{}, apperr.Invalid("dingtalk_setting_invalid", "agent_id", "AgentId 须为数字")
	}
	bases := []struct {
		v           *string
		field, name string
	}{{&in.APIBase, "api_base", "新版接口地址"}, {&in.OAPIBase, "oapi_base", "旧版接口地址"}, {&in.LoginBase, "login_base", "登录地址"}}
	for _, b := range bases {
		*b.v = strings.TrimRight(strings.TrimSpace(*b.v), "/")
		if *b.v == "" {
			continue
		}
		u, err := url.Parse(*b.v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || len(*b.v) > 200 {
			return DingTalkSettings{}, apperr.Invalid("dingtalk_setting_invalid", b.field, "%s须为 http(s) 开头的地址", b.name)
		}
	}
	var sealed string
	if in.AppSecret != nil && strings.TrimSpace(*in.AppSecret) != "" {
		sec := strings.TrimSpace(*in.AppSecret)
		if len(sec) > 200 || strings.ContainsAny(sec, " \t\r\n") {
			return DingTalkSettings{}, apperr.Invalid("dingtalk_setting_invalid", "app_secret", "AppSecret 格式不正确")
		}
		var err error
		if sealed, err = s.sealSecret(appSecretPurpose, sec); err != nil {
			return DingTalkSettings{}, err
		}
	}
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		before, err := getSettings(ctx, tx, true)
		if err != nil {
			return err
		}
		if before.Version != in.Version {
			return apperr.ErrStaleVersion
		}
		secretEnc := before.AppSecretEnc
		if in.AppSecret != nil {
			secretEnc = sealed // "" clears it
		}
		_, err = tx.ExecContext(ctx, `UPDATE dingtalk_settings SET corp_id = $1, app_key = $2, agent_id = $3, robot_code = $4,
			api_base = $5, oapi_base = $6, login_base = $7, stream = $8, app_secret_enc = $9, version = version + 1,
			updated_by = $10, updated_at = now()`,
			in.CorpID, in.AppKey, in.AgentID, in.RobotCode, in.APIBase, in.OAPIBase, in.LoginBase, in.Stream, secretEnc, actorName(a))
		if err != nil {
			return fmt.Errorf("save dingtalk settings: %w", err)
		}
		after, err := getSettings(ctx, tx, false)
		if err != nil {
			return err
		}
		// The audit log keeps whether a secret is set, never the secret.
		return audit.Record(ctx, tx, a, audit.Entry{Action: "dingtalk_settings.update", Entity: "dingtalk_settings", EntityID: 1,
			Before: before.app(), After: after.app()})
	})
	if err != nil {
		return DingTalkSettings{}, err
	}
	return s.DingTalkSettings(ctx)
}

// EffectiveDingTalk returns cfg's DingTalk settings with the values saved in
// the console (钉钉设置) laid over them: what the client should be built
// with at start. A saved secret that cannot be opened (the key changed) is
// an error rather than a silent fall-back to another app's secret.
func EffectiveDingTalk(ctx context.Context, d *db.DB, cfg config.Config) (config.DingTalk, error) {
	out := cfg.DingTalk
	r, err := getSettings(ctx, d, false)
	if err != nil {
		return out, err
	}
	derivedRobot := out.RobotCode == "" || out.RobotCode == out.AppKey
	for _, f := range []struct {
		saved string
		dst   *string
	}{{r.CorpID, &out.CorpID}, {r.AppKey, &out.AppKey}, {r.AgentID, &out.AgentID}, {r.RobotCode, &out.RobotCode},
		{r.APIBase, &out.APIBase}, {r.OAPIBase, &out.OAPIBase}, {r.LoginBase, &out.LoginBase}} {
		if f.saved != "" {
			*f.dst = f.saved
		}
	}
	// An internal app's robot code is its AppKey unless said otherwise.
	if r.RobotCode == "" && derivedRobot {
		out.RobotCode = out.AppKey
	}
	if r.Stream != nil {
		out.Stream = *r.Stream
	}
	if r.AppSecretEnc != "" {
		box, err := secretBox(cfg, nil)
		if err != nil {
			return out, fmt.Errorf("open saved DingTalk app secret: %w", err)
		}
		sec, err := box.Open(appSecretPurpose, r.AppSecretEnc)
		if err != nil {
			return out, fmt.Errorf("open saved DingTalk app secret (was HEHUO_SECRET_KEY changed?): %w", err)
		}
		out.AppSecret = sec
	}
	return out, nil
}
