package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/dingtalk"
	"hehuo/internal/text"
)

// robotPurpose and webhookPurpose bind sealed robot secrets and webhook
// URLs to their use (see internal/secret).
const (
	robotPurpose   = "dingtalk_robot"
	webhookPurpose = "dingtalk_robot_webhook"
)

// ErrNoRobot means neither the org unit nor any unit above it has an enabled robot.
var ErrNoRobot = apperr.Rule("robot_not_configured", "", "该组织及其上级组织都没有启用的钉钉消息机器人")

// Robot is a custom group robot (消息机器人) of an org unit. Its signing
// secret is never returned, and the webhook's access token only masked.
type Robot struct {
	ID          int64     `db:"id" json:"id"`
	OrgUnitID   int64     `db:"org_unit_id" json:"org_unit_id"`
	OrgUnitName string    `db:"org_unit_name" json:"org_unit_name"`
	Name        string    `db:"name" json:"name"`
	WebhookURL  string    `db:"webhook_url" json:"webhook_url"`
	SecretHint  string    `db:"secret_hint" json:"secret_hint"`
	Enabled     bool      `db:"enabled" json:"enabled"`
	Version     int       `db:"version" json:"version"`
	UpdatedBy   string    `db:"updated_by" json:"updated_by"`
	UpdatedAt   time.Time `db:"updated_at" json:"updated_at"`
}

// RobotInput creates a robot (every field but Version required, Enabled
// defaulting to true) or changes one (nil fields stay; Version required).
type RobotInput struct {
	OrgUnitID  *int64  `json:"org_unit_id"`
	Name       *string `json:"name"`
	WebhookURL *string `json:"webhook_url"`
	Secret     *string `json:"secret"`
	Enabled    *bool   `json:"enabled"`
	Version    int     `json:"version"`
}

// robotRow is a stored robot, with the parts the API never shows. Its
// WebhookURL is masked; the full URL is sealed in WebhookEnc (NULL only for
// a row stored before webhooks were sealed, see SealWebhooks).
type robotRow struct {
	Robot
	SecretEnc  string  `db:"secret_enc"`
	WebhookEnc *string `db:"webhook_enc"`
}

const robotColumns = `r.id, r.org_unit_id, u.name AS org_unit_name, r.name, r.webhook_url, r.secret_hint,
	r.enabled, r.version, r.updated_by, r.updated_at, r.secret_enc, r.webhook_enc`

// Robots returns every robot, masked, in org unit order.
func (s *Service) Robots(ctx context.Context) ([]Robot, error) {
	var rows []robotRow
	err := s.db.SelectContext(ctx, &rows, `SELECT `+robotColumns+`
		FROM dingtalk_robots r JOIN org_units u ON u.id = r.org_unit_id ORDER BY r.org_unit_id`)
	if err != nil {
		return nil, fmt.Errorf("list robots: %w", err)
	}
	out := make([]Robot, len(rows))
	for i, r := range rows {
		out[i] = r.masked()
	}
	return out, nil
}

// Robot returns one robot, masked.
func (s *Service) Robot(ctx context.Context, id int64) (Robot, error) {
	r, err := getRobot(ctx, s.db, id, false)
	return r.masked(), err
}

func getRobot(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (robotRow, error) {
	var r robotRow
	query := `SELECT ` + robotColumns + ` FROM dingtalk_robots r JOIN org_units u ON u.id = r.org_unit_id WHERE r.id = $1`
	if lock {
		query += ` FOR UPDATE OF r`
	}
	err := sqlx.GetContext(ctx, q, &r, query, id)
	if db.IsNoRows(err) {
		return r, apperr.NotFound("robot_not_found", "消息机器人不存在")
	}
	if err != nil {
		return r, fmt.Errorf("get robot %d: %w", id, err)
	}
	return r, nil
}

func (r robotRow) masked() Robot {
	out := r.Robot
	out.WebhookURL = maskWebhook(r.WebhookURL)
	return out
}

// maskWebhook hides the middle of the access token: with it alone (and the
// secret) anyone could post to the group.
func maskWebhook(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	q := u.Query()
	if tok := q.Get("access_token"); tok != "" {
		q.Set("access_token", mask(tok))
		u.RawQuery = strings.ReplaceAll(q.Encode(), "%2A", "*")
	}
	return u.String()
}

func mask(s string) string {
	if len(s) <= 8 {
		return "****"
	}
	return s[:4] + "****" + s[len(s)-4:]
}

// secretHint shows "SEC…" and the last four characters.
func secretHint(secret string) string {
	if len(secret) <= 11 {
		return "SEC****"
	}
	return "SEC****" + secret[len(secret)-4:]
}

// checkWebhook refuses a webhook URL that is not DingTalk's shape: https,
// with an access_token. Plain http is accepted only on loopback and only in
// demo mode or toward the configured (simulated) DingTalk host.
func (s *Service) checkWebhook(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	bad := apperr.Invalid("robot_webhook_invalid", "webhook_url", "Webhook 地址须为 https 开头、含 access_token 的钉钉机器人地址")
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || len(raw) > 500 {
		return "", bad
	}
	if u.Query().Get("access_token") == "" {
		return "", bad
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", bad
		}
		oapi, _ := url.Parse(s.cfg.DingTalk.OAPIBase)
		if !s.cfg.Demo && (oapi == nil || oapi.Host != u.Host) {
			return "", bad
		}
	default:
		return "", bad
	}
	return raw, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkRobotSecret accepts a custom robot's signing secret ("SEC" + hex).
func checkRobotSecret(secret string) (string, error) {
	secret = strings.TrimSpace(secret)
	if !strings.HasPrefix(secret, "SEC") || len(secret) < 10 || len(secret) > 200 || strings.ContainsAny(secret, " \t\r\n") {
		return "", apperr.Invalid("robot_secret_invalid", "secret", "加签密钥须为钉钉机器人安全设置中以 SEC 开头的密钥")
	}
	return secret, nil
}

// robotAudit is what the audit log keeps of a robot: never the secret.
func robotAudit(r robotRow) map[string]any {
	return map[string]any{"id": r.ID, "org_unit_id": r.OrgUnitID, "name": r.Name, "webhook_url": maskWebhook(r.WebhookURL),
		"secret_hint": r.SecretHint, "enabled": r.Enabled, "version": r.Version}
}

func translateRobotErr(err error) error {
	if _, dup := db.IsUniqueViolation(err); dup {
		return apperr.Conflict("robot_exists", "该组织已配置消息机器人，请编辑已有的机器人").WithField("org_unit_id")
	}
	if _, fk := db.IsForeignKeyViolation(err); fk {
		return apperr.Invalid("org_unit_not_found", "org_unit_id", "组织不存在")
	}
	return err
}

// CreateRobot configures the robot of an org unit.
func (s *Service) CreateRobot(ctx context.Context, a audit.Actor, in RobotInput) (Robot, error) {
	if in.OrgUnitID == nil || *in.OrgUnitID <= 0 {
		return Robot{}, apperr.Invalid("required", "org_unit_id", "请选择组织")
	}
	name, err := text.Clean(deref(in.Name), "name", "机器人名称", true, 30)
	if err != nil {
		return Robot{}, err
	}
	hook, err := s.checkWebhook(deref(in.WebhookURL))
	if err != nil {
		return Robot{}, err
	}
	sec, err := checkRobotSecret(deref(in.Secret))
	if err != nil {
		return Robot{}, err
	}
	sealed, err := s.sealSecret(robotPurpose, sec)
	if err != nil {
		return Robot{}, err
	}
	hookEnc, err := s.sealSecret(webhookPurpose, hook)
	if err != nil {
		return Robot{}, err
	}
	enabled := in.Enabled == nil || *in.Enabled
	var after robotRow
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var id int64
		err := tx.GetContext(ctx, &id, `INSERT INTO dingtalk_robots (org_unit_id, name, webhook_url, webhook_enc, secret_enc, secret_hint, enabled, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, *in.OrgUnitID, name, maskWebhook(hook), hookEnc, sealed, secretHint(sec), enabled, actorName(a))
		if err != nil {
			return translateRobotErr(fmt.Errorf("insert robot: %w", err))
		}
		if after, err = getRobot(ctx, tx, id, false); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "dingtalk_robot.create", Entity: "dingtalk_robot", EntityID: id, After: robotAudit(after)})
	})
	return after.masked(), err
}

// UpdateRobot changes a robot; a nil secret or webhook keeps the stored one.
func (s *Service) UpdateRobot(ctx context.Context, a audit.Actor, id int64, in RobotInput) (Robot, error) {
	if in.Version <= 0 {
		return Robot{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	var name, hook, hookEnc, sealed, hint string
	var err error
	if in.Name != nil {
		if name, err = text.Clean(*in.Name, "name", "机器人名称", true, 30); err != nil {
			return Robot{}, err
		}
	}
	if in.WebhookURL != nil {
		if hook, err = s.checkWebhook(*in.WebhookURL); err != nil {
			return Robot{}, err
		}
		if hookEnc, err = s.sealSecret(webhookPurpose, hook); err != nil {
			return Robot{}, err
		}
	}
	if in.Secret != nil {
		sec, err := checkRobotSecret(*in.Secret)
		if err != nil {
			return Robot{}, err
		}
		if sealed, err = s.sealSecret(robotPurpose, sec); err != nil {
			return Robot{}, err
		}
		hint = secretHint(sec)
	}
	var after robotRow
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		before, err := getRobot(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if before.Version != in.Version {
			return apperr.ErrStaleVersion
		}
		r := before
		if in.OrgUnitID != nil {
			r.OrgUnitID = *in.OrgUnitID
		}
		if in.Name != nil {
			r.Name = name
		}
		if in.WebhookURL != nil {
			r.WebhookURL, r.WebhookEnc = maskWebhook(hook), &hookEnc
		}
		if in.Secret != nil {
			r.SecretEnc, r.SecretHint = sealed, hint
		}
		if in.Enabled != nil {
			r.Enabled = *in.Enabled
		}
		_, err = tx.ExecContext(ctx, `UPDATE dingtalk_robots SET org_unit_id = $1, name = $2, webhook_url = $3, webhook_enc = $4, secret_enc = $5,
			secret_hint = $6, enabled = $7, version = version + 1, updated_by = $8, updated_at = now() WHERE id = $9`,
			r.OrgUnitID, r.Name, r.WebhookURL, r.WebhookEnc, r.SecretEnc, r.SecretHint, r.Enabled, actorName(a), id)
		if err != nil {
			return translateRobotErr(fmt.Errorf("update robot %d: %w", id, err))
		}
		if after, err = getRobot(ctx, tx, id, false); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "dingtalk_robot.update", Entity: "dingtalk_robot", EntityID: id,
			Before: robotAudit(before), After: robotAudit(after)})
	})
	return after.masked(), err
}

// DeleteRobot removes a robot; notices for its org unit then go to the nearest robot above.
func (s *Service) DeleteRobot(ctx context.Context, a audit.Actor, id int64) error {
	return s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		before, err := getRobot(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM dingtalk_robots WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete robot %d: %w", id, err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "dingtalk_robot.delete", Entity: "dingtalk_robot", EntityID: id, Before: robotAudit(before)})
	})
}

// RobotWebhook returns the webhook of the nearest enabled robot at or above
// the org unit, walking up org_units.parent_id; ErrNoRobot if there is none.
func (s *Service) RobotWebhook(ctx context.Context, orgUnitID int64) (dingtalk.Webhook, error) {
	var r robotRow
	err := s.db.GetContext(ctx, &r, `
		WITH RECURSIVE up AS (
			SELECT id, parent_id, 0 AS depth FROM org_units WHERE id = $1
			UNION ALL
			SELECT o.id, o.parent_id, up.depth + 1 FROM org_units o JOIN up ON o.id = up.parent_id)
		SELECT `+robotColumns+` FROM up
		JOIN dingtalk_robots r ON r.org_unit_id = up.id
		JOIN org_units u ON u.id = r.org_unit_id
		WHERE r.enabled ORDER BY up.depth LIMIT 1`, orgUnitID)
	if db.IsNoRows(err) {
		return dingtalk.Webhook{}, ErrNoRobot
	}
	if err != nil {
		return dingtalk.Webhook{}, fmt.Errorf("find robot of org unit %d: %w", orgUnitID, err)
	}
	return s.webhookOf(r)
}

func (s *Service) webhookOf(r robotRow) (dingtalk.Webhook, error) {
	sec, err := s.openSecret(robotPurpose, r.SecretEnc)
	if err != nil {
		return dingtalk.Webhook{}, fmt.Errorf("robot %d: %w", r.ID, err)
	}
	hook := r.WebhookURL // a row not sealed yet holds the URL in clear
	if r.WebhookEnc != nil {
		if hook, err = s.openSecret(webhookPurpose, *r.WebhookEnc); err != nil {
			return dingtalk.Webhook{}, fmt.Errorf("robot %d webhook: %w", r.ID, err)
		}
	}
	return dingtalk.Webhook{URL: hook, Secret: sec}, nil
}

// SealWebhooks seals the webhook URLs stored in clear before migration
// 00016 and keeps only their masked form in webhook_url; it returns how many
// it sealed. The server runs it at every start; with nothing left in clear
// it only reads.
func (s *Service) SealWebhooks(ctx context.Context) (int, error) {
	n := 0
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var rows []struct {
			ID  int64  `db:"id"`
			URL string `db:"webhook_url"`
		}
		if err := tx.SelectContext(ctx, &rows, `SELECT id, webhook_url FROM dingtalk_robots WHERE webhook_enc IS NULL ORDER BY id FOR UPDATE`); err != nil {
			return fmt.Errorf("robots to seal: %w", err)
		}
		for _, r := range rows {
			sealed, err := s.sealSecret(webhookPurpose, r.URL)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE dingtalk_robots SET webhook_url = $1, webhook_enc = $2 WHERE id = $3`,
				maskWebhook(r.URL), sealed, r.ID); err != nil {
				return fmt.Errorf("seal robot %d webhook: %w", r.ID, err)
			}
			if err := audit.Record(ctx, tx, audit.System, audit.Entry{Action: "dingtalk_robot.seal_webhook", Entity: "dingtalk_robot",
				EntityID: r.ID, After: map[string]any{"webhook_url": maskWebhook(r.URL)}}); err != nil {
				return err
			}
		}
		n = len(rows)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("seal robot webhooks: %w", err)
	}
	return n, nil
}

// TestRobot sends the test message to a robot's group now, through the
// client (not the outbox), and words DingTalk's refusal in Chinese.
func (s *Service) TestRobot(ctx context.Context, a audit.Actor, id int64) (Rendered, error) {
	r, err := getRobot(ctx, s.db, id, false)
	if err != nil {
		return Rendered{}, err
	}
	wh, err := s.webhookOf(r)
	if err != nil {
		return Rendered{}, apperr.Rule("robot_secret_unreadable", "secret", "无法解密机器人密钥（加密密钥 HEHUO_SECRET_KEY 可能已更换），请重新填写加签密钥")
	}
	rd, err := s.testMessage(ctx, a)
	if err != nil {
		return Rendered{}, err
	}
	if err := s.client.SendWebhook(ctx, wh, rd.Message()); err != nil {
		return Rendered{}, robotError(err)
	}
	s.log.InfoContext(ctx, "robot test message sent", "robot_id", id, "actor", a.Name)
	return rd, nil
}

// robotError words a failed robot send for the operator.
func robotError(err error) error {
	fail := func(code, format string, args ...any) error {
		e := apperr.Rule(code, "", format, args...)
		e.Err = err
		return e
	}
	var de *dingtalk.Error
	if !errors.As(err, &de) {
		return fail("robot_unreachable", "无法连接钉钉机器人地址，请检查 Webhook 地址和网络")
	}
	msg := strings.ToLower(de.Message)
	switch {
	case de.Code == "310000" && strings.Contains(msg, "keyword"):
		return fail("robot_keyword_missing", "消息不含机器人的自定义关键词，请在机器人安全设置中改用加签")
	case de.Code == "310000" && strings.Contains(msg, "whitelist"):
		return fail("robot_ip_refused", "服务器 IP 不在机器人的 IP 白名单中")
	case dingtalk.IsRobotSignature(err):
		return fail("robot_sign_invalid", "机器人加签密钥不正确，请核对机器人安全设置中的加签密钥")
	case de.Code == "300001" || de.Code == "300005" || strings.Contains(msg, "token is not exist"):
		return fail("robot_token_invalid", "Webhook 地址中的 access_token 无效，机器人可能已被移除")
	case de.Code == "130101" || dingtalk.IsThrottled(err):
		return fail("robot_throttled", "机器人发送过于频繁（每分钟最多20条），请稍后再试")
	}
	return fail("robot_send_failed", "钉钉拒绝了这条消息：%s %s", de.Code, de.Message)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
