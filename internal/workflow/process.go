package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/attachment"
	"hehuo/internal/audit"
	"hehuo/internal/cache"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/dingtalk"
	"hehuo/internal/project"
	"hehuo/internal/text"
)

// launchLease bounds how long one caller may talk to DingTalk for a
// launching row before another caller may take the row over.
const launchLease = 2 * time.Minute

// Service is the process center (流程/项目流程): OA approvals launched from
// Hehuo and their business effects.
type Service struct {
	db    *db.DB
	dt    *dingtalk.Client
	inbox *Inbox
	cfg   config.Config
	log   *slog.Logger

	mu        sync.RWMutex
	effects   map[Kind]Effect
	observers map[Kind][]Observer
}

// NewService returns the process center; it registers its approval-event
// handler on inbox.
func NewService(d *db.DB, dt *dingtalk.Client, inbox *Inbox, cfg config.Config, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{db: d, dt: dt, inbox: inbox, cfg: cfg, log: log}
	if inbox != nil {
		inbox.Register(EventInstanceChange, s.onInstanceChange)
	}
	return s
}

// ProcessCode is the OA template of kind: from the configuration, or
// PROC-HEHUO-<KIND> so that the demo and the simulator work unconfigured.
func (s *Service) ProcessCode(kind Kind) string {
	if c := strings.TrimSpace(s.cfg.DingTalk.ProcessCodes[string(kind)]); c != "" {
		return c
	}
	return "PROC-HEHUO-" + strings.ToUpper(string(kind))
}

const instanceColumns = `id, project_id, subject_id, kind, status, coalesce(instance_id, '') AS instance_id, result,
	process_code, initiator_id, initiator_name, department, started_at, finished_at, launch_error, version, label, title`

// Get returns one process.
func (s *Service) Get(ctx context.Context, id int64) (Instance, error) {
	return get(ctx, s.db, id, false)
}

func get(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (Instance, error) {
	var inst Instance
	query := `SELECT ` + instanceColumns + ` FROM processes WHERE id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	err := sqlx.GetContext(ctx, q, &inst, query, id)
	if db.IsNoRows(err) {
		return inst, apperr.NotFound("process_not_found", "流程不存在")
	}
	if err != nil {
		return inst, fmt.Errorf("get process %d: %w", id, err)
	}
	inst.named()
	return inst, nil
}

// LaunchInput is a launch request as the API takes it.
type LaunchInput struct {
	Kind      Kind              `json:"kind"`
	SubjectID int64             `json:"subject_id"`
	Form      map[string]string `json:"form"` // 情况说明 …, keyed by label
	// AttachmentIDs are files uploaded to the project before, linked from the form.
	AttachmentIDs []int64 `json:"attachment_ids"`
	// Slots are files linked in the kind's named attachment slots
	// (KindInfo.Slots), by slot label: {"项目现金流量表": [12]}.
	Slots map[string][]int64 `json:"slots"`
}

// slotFiles are the files of one named slot.
type slotFiles struct {
	name  string
	files []attachment.Attachment
}

// checkInput cleans the user's part of the form: known kind, labels and
// values without < and >, bounded. The subject of a per-project kind is the
// project itself, stored as 0 whichever way the caller named it, so that
// one project never has two of them running (the duplicate check is per
// subject) and reports find it in one place.
func checkInput(projectID int64, in *LaunchInput) error {
	info, ok := in.Kind.Info()
	if !ok {
		return apperr.Invalid("process_kind_unknown", "kind", "未知的流程类型：%s", in.Kind)
	}
	in.Kind = info.Kind
	if in.SubjectID < 0 || info.PerProject && in.SubjectID != 0 && in.SubjectID != projectID {
		return apperr.Invalid("subject_invalid", "subject_id", "流程对象无效")
	}
	if info.PerProject {
		in.SubjectID = 0
	}
	if len(in.Form) > 20 {
		return apperr.Invalid("form_too_many_fields", "form", "表单项不能超过20个")
	}
	clean := make(map[string]string, len(in.Form))
	for k, v := range in.Form {
		key, err := text.Clean(k, "form", "表单项名称", true, 30)
		if err != nil {
			return err
		}
		val, err := text.CleanNote(v, "form."+key, key, false, 2000)
		if err != nil {
			return err
		}
		if reserved[key] {
			return apperr.Invalid("form_field_reserved", "form."+key, "表单项「%s」由系统填写", key)
		}
		clean[key] = val
	}
	in.Form = clean
	n := len(in.AttachmentIDs)
	for slot, ids := range in.Slots {
		if !info.HasSlot(slot) {
			return apperr.Invalid("attachment_slot_unknown", "slots", "「%s」流程没有附件栏「%s」", info.Label, slot)
		}
		n += len(ids)
	}
	if n > 20 {
		return apperr.Invalid("attachments_too_many", "attachment_ids", "附件不能超过20个")
	}
	return nil
}

// slotAttachments checks the files of each named slot of kind, in the
// kind's order of slots (every slot, empty ones too).
func (s *Service) slotAttachments(ctx context.Context, q sqlx.QueryerContext, projectID int64, kind Kind, in map[string][]int64) ([]slotFiles, error) {
	info, _ := kind.Info()
	out := make([]slotFiles, 0, len(info.Slots))
	for _, slot := range info.Slots {
		files, err := s.projectAttachments(ctx, q, projectID, in[slot])
		if err != nil {
			return nil, err
		}
		out = append(out, slotFiles{name: slot, files: files})
	}
	return out, nil
}

// Preview runs the kind's Prepare without storing anything and returns the
// OA form as it would be sent (流水号 and links are placeholders).
func (s *Service) Preview(ctx context.Context, a audit.Actor, projectID int64, in LaunchInput) ([]FormField, error) {
	if err := checkInput(projectID, &in); err != nil {
		return nil, err
	}
	e, ok := s.effect(in.Kind)
	if !ok || e.Prepare == nil {
		return nil, errKindUnavailable(in.Kind)
	}
	var form []FormField
	errPreview := errors.New("preview: roll back")
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		head, err := header(ctx, tx, a, projectID)
		if err != nil {
			return err
		}
		f, err := e.Prepare(ctx, tx, Launch{ProjectID: projectID, SubjectID: in.SubjectID, Kind: in.Kind, Actor: a, Form: in.Form})
		if err != nil {
			return err
		}
		atts, err := s.projectAttachments(ctx, tx, projectID, in.AttachmentIDs)
		if err != nil {
			return err
		}
		slots, err := s.slotAttachments(ctx, tx, projectID, in.Kind, in.Slots)
		if err != nil {
			return err
		}
		form = s.buildForm("（发起后生成）", head, f, in.Form, atts, slots, nil)
		return errPreview
	})
	if errors.Is(err, errPreview) {
		return form, nil
	}
	return nil, err
}

func errKindUnavailable(k Kind) error {
	return apperr.Rule("process_kind_unavailable", "kind", "「%s」流程尚未开放", k.Label())
}

// formHeader is the initiator's and the project's part of the OA form.
type formHeader struct {
	initiatorID    *int64
	initiator      string
	dingtalkUserID string
	department     string
	projectName    string
	acquisition    string
	cityCompanyID  int64
}

// header reads the initiator and the project. The initiator must have a
// DingTalk account: the approval is started in their name.
func header(ctx context.Context, tx *sqlx.Tx, a audit.Actor, projectID int64) (formHeader, error) {
	var h formHeader
	var p struct {
		Name        string `db:"name"`
		Acquisition string `db:"acquisition_method"`
		City        int64  `db:"city_company_id"`
	}
	err := sqlx.GetContext(ctx, tx, &p, `SELECT name, acquisition_method, city_company_id FROM projects WHERE id = $1`, projectID)
	if db.IsNoRows(err) {
		return h, apperr.NotFound("project_not_found", "项目不存在")
	}
	if err != nil {
		return h, fmt.Errorf("read project %d: %w", projectID, err)
	}
	h.projectName, h.acquisition, h.cityCompanyID = p.Name, p.Acquisition, p.City
	if a.ID == nil {
		return h, apperr.Rule("initiator_without_dingtalk", "", "发起人没有钉钉账号，不能发起钉钉审批")
	}
	var u struct {
		Name   string  `db:"name"`
		UserID *string `db:"dingtalk_userid"`
		Dept   string  `db:"dept"`
	}
	err = sqlx.GetContext(ctx, tx, &u, `
		SELECT u.name, u.dingtalk_userid, coalesce(o.name, '') AS dept
		FROM users u LEFT JOIN org_units o ON o.id = u.org_unit_id WHERE u.id = $1`, *a.ID)
	if err != nil {
		return h, fmt.Errorf("read initiator %d: %w", *a.ID, err)
	}
	if u.UserID == nil || strings.TrimSpace(*u.UserID) == "" {
		return h, apperr.Rule("initiator_without_dingtalk", "", "发起人「%s」没有绑定钉钉账号，不能发起钉钉审批；请用钉钉登录的账号发起", u.Name)
	}
	h.initiatorID, h.initiator, h.dingtalkUserID, h.department = a.ID, u.Name, *u.UserID, u.Dept
	return h, nil
}

// reserved are the labels the process center fills itself.
var reserved = map[string]bool{"流水号": true, "发起人": true, "发起部门": true, "项目名称": true, "取得方式": true, "附件": true, "计算表": true}

// buildForm assembles the OA form like the seed's 事业合伙投资-利润1分配审批:
// 流水号 (the business key a retry looks for), 发起人, 发起部门, 项目名称,
// 取得方式, the subject's figures, 情况说明 (and other typed fields), then
// the calculation sheet and the attachments as links into Hehuo.
func (s *Service) buildForm(key string, h formHeader, f Form, input map[string]string, atts []attachment.Attachment, slots []slotFiles, sheet *attachment.Attachment) []FormField {
	acq := h.acquisition
	if acq == "" {
		acq = "—"
	}
	dept := h.department
	if dept == "" {
		dept = "—"
	}
	out := []FormField{{"流水号", key}, {"发起人", h.initiator}, {"发起部门", dept}, {"项目名称", h.projectName}, {"取得方式", acq}}
	out = append(out, f.Fields...)
	note := input["情况说明"]
	if note == "" {
		note = f.Note
	}
	out = append(out, FormField{"情况说明", orDash(note)})
	for _, k := range sortedKeys(input) {
		if k != "情况说明" {
			out = append(out, FormField{k, orDash(input[k])})
		}
	}
	if sheet != nil {
		out = append(out, FormField{"计算表", s.link(*sheet)})
	}
	for _, sl := range slots {
		var links []string
		for _, a := range sl.files {
			links = append(links, s.link(a))
		}
		out = append(out, FormField{sl.name, orDash(strings.Join(links, "\n"))})
	}
	var links []string
	for _, a := range atts {
		links = append(links, s.link(a))
	}
	if len(links) == 0 {
		links = []string{"—"}
	}
	out = append(out, FormField{"附件", strings.Join(links, "\n")})
	return out
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// link is an attachment as "name url": the file stays in Hehuo.
func (s *Service) link(a attachment.Attachment) string {
	return fmt.Sprintf("%s %s/api/v1/attachments/%d", a.Name, s.publicURL(), a.ID)
}

func (s *Service) publicURL() string {
	base := strings.TrimRight(s.cfg.HTTP.PublicURL, "/")
	if base == "" {
		base = "http://" + s.cfg.HTTP.Addr
	}
	return base
}

// projectAttachments checks that ids are files of the project.
func (s *Service) projectAttachments(ctx context.Context, q sqlx.QueryerContext, projectID int64, ids []int64) ([]attachment.Attachment, error) {
	var out []attachment.Attachment
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		a, err := attachment.Get(ctx, q, id)
		if err != nil || a.ProjectID == nil || *a.ProjectID != projectID {
			if err != nil && apperr.KindOf(err) != apperr.KindNotFound {
				return nil, err
			}
			return nil, apperr.Invalid("attachment_not_found", "attachment_ids", "附件 %d 不存在或不属于本项目", id)
		}
		out = append(out, a)
	}
	return out, nil
}

// Launch launches a process (DESIGN §2). A `launching` row is committed
// first, with the OA form the kind's Prepare allowed; DingTalk is called
// outside any transaction; the instance id is then recorded with the
// Launched effect. When a launching row for the same subject is left from
// a failed attempt, Launch retries it instead (looking the instance up
// first). A DingTalk failure leaves the row launching with its error and
// returns it; the caller may launch again later.
func (s *Service) Launch(ctx context.Context, a audit.Actor, projectID int64, in LaunchInput) (Instance, error) {
	if err := checkInput(projectID, &in); err != nil {
		return Instance{}, err
	}
	e, ok := s.effect(in.Kind)
	if !ok || e.Prepare == nil {
		return Instance{}, errKindUnavailable(in.Kind)
	}
	var inst Instance
	var form []FormField
	var retry bool
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := project.Writable(ctx, tx, projectID); err != nil {
			return err
		}
		retry = false
		// A launching row of the subject: retry it, under the lease.
		var pending int64
		err := sqlx.GetContext(ctx, tx, &pending, `SELECT id FROM processes
			WHERE project_id = $1 AND kind = $2 AND subject_id = $3 AND status = 'launching'`, projectID, in.Kind, in.SubjectID)
		if err == nil {
			retry, inst.ID = true, pending
			return nil
		}
		if !db.IsNoRows(err) {
			return fmt.Errorf("find launching process: %w", err)
		}
		var status Status
		err = sqlx.GetContext(ctx, tx, &status, `SELECT status FROM processes
			WHERE project_id = $1 AND kind = $2 AND subject_id = $3 AND status IN ('running', 'agreed', 'refused', 'terminated')
			ORDER BY id DESC LIMIT 1`,
			projectID, in.Kind, in.SubjectID)
		switch {
		case err == nil && status == StatusRunning:
			return apperr.Conflict("process_running", "「%s」流程正在审批中，不能重复发起", in.Kind.Label())
		case err == nil && status == StatusAgreed:
			return apperr.Conflict("process_already_agreed", "「%s」流程已审批通过，不能再次发起", in.Kind.Label())
		case err == nil:
			// A refused or terminated process stays on the list until a
			// sysadmin resets it, so that a refusal is seen before a relaunch.
			return apperr.Conflict("process_needs_reset", "「%s」流程%s，请系统管理员重置后再发起", in.Kind.Label(), status.Label())
		case !db.IsNoRows(err):
			return fmt.Errorf("find active process: %w", err)
		}
		head, err := header(ctx, tx, a, projectID)
		if err != nil {
			return err
		}
		l := Launch{ProjectID: projectID, SubjectID: in.SubjectID, Kind: in.Kind, Actor: a, Form: in.Form}
		f, err := e.Prepare(ctx, tx, l)
		if err != nil {
			return err
		}
		atts, err := s.projectAttachments(ctx, tx, projectID, in.AttachmentIDs)
		if err != nil {
			return err
		}
		slots, err := s.slotAttachments(ctx, tx, projectID, in.Kind, in.Slots)
		if err != nil {
			return err
		}
		input, _ := json.Marshal(in.Form)
		err = sqlx.GetContext(ctx, tx, &inst.ID, `
			INSERT INTO processes (project_id, kind, subject_id, status, process_code, initiator_id, initiator_name,
				department, input, launch_lease_until, label, title)
			VALUES ($1, $2, $3, 'launching', $4, $5, $6, $7, $8, now() + $9::interval, $10, $11)
			RETURNING id`,
			projectID, in.Kind, in.SubjectID, s.ProcessCode(in.Kind), head.initiatorID, head.initiator, head.department,
			string(input), fmt.Sprintf("%d seconds", int(launchLease.Seconds())), f.Label, f.Title)
		if _, ok := db.IsUniqueViolation(err); ok {
			return apperr.Conflict("process_running", "「%s」流程正在发起或审批中，不能重复发起", in.Kind.Label())
		}
		if err != nil {
			return fmt.Errorf("insert process: %w", err)
		}
		if inst, err = get(ctx, tx, inst.ID, false); err != nil {
			return err
		}
		var sheet *attachment.Attachment
		if e.Sheet != nil {
			name, content, err := e.Sheet(ctx, tx, inst)
			if err != nil {
				return err
			}
			if len(content) > 0 {
				sa, err := attachment.Store(ctx, tx, a, projectID, name, content)
				if err != nil {
					return fmt.Errorf("store the calculation sheet %s: %w", name, err)
				}
				sheet = &sa
			}
		}
		form = s.buildForm(inst.BusinessKey(), head, f, in.Form, atts, slots, sheet)
		formJSON, _ := json.Marshal(form)
		if _, err := tx.ExecContext(ctx, `UPDATE processes SET form = $2 WHERE id = $1`, inst.ID, string(formJSON)); err != nil {
			return fmt.Errorf("store form: %w", err)
		}
		linked := map[int64]bool{}
		link := func(at attachment.Attachment, slot string) error {
			if linked[at.ID] { // one file named twice is linked once, where first named
				return nil
			}
			linked[at.ID] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO process_attachments (process_id, attachment_id, role, slot) VALUES ($1, $2, 'upload', $3)`,
				inst.ID, at.ID, slot); err != nil {
				return fmt.Errorf("link attachment: %w", err)
			}
			return nil
		}
		for _, sl := range slots {
			for _, at := range sl.files {
				if err := link(at, sl.name); err != nil {
					return err
				}
			}
		}
		for _, at := range atts {
			if err := link(at, ""); err != nil {
				return err
			}
		}
		if sheet != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO process_attachments (process_id, attachment_id, role) VALUES ($1, $2, 'sheet')`, inst.ID, sheet.ID); err != nil {
				return fmt.Errorf("link sheet: %w", err)
			}
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "process.launch", Entity: "process", EntityID: inst.ID,
			ProjectID: &projectID, After: map[string]any{"kind": inst.Kind, "subject_id": inst.SubjectID, "form": form}})
	})
	if err != nil {
		return Instance{}, err
	}
	if retry {
		return s.Retry(ctx, a, inst.ID)
	}
	return s.start(ctx, a, inst.ID)
}

// Retry starts a launching process again: it takes the row's lease, looks
// for an instance an earlier attempt created (by the 流水号 in its form),
// and creates one only when there is none.
func (s *Service) Retry(ctx context.Context, a audit.Actor, id int64) (Instance, error) {
	var inst Instance
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if inst, err = get(ctx, tx, id, true); err != nil {
			return err
		}
		if inst.Status != StatusLaunching {
			return apperr.Conflict("process_not_launching", "流程已发起，无需重试")
		}
		res, err := tx.ExecContext(ctx, `UPDATE processes SET launch_lease_until = now() + $2::interval
			WHERE id = $1 AND (launch_lease_until IS NULL OR launch_lease_until < now())`,
			id, fmt.Sprintf("%d seconds", int(launchLease.Seconds())))
		if err != nil {
			return fmt.Errorf("lease process %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.Conflict("process_launch_in_progress", "流程正在发起中，请稍后刷新")
		}
		return nil
	})
	if err != nil {
		return Instance{}, err
	}
	found, err := s.lookup(ctx, inst)
	if err != nil {
		return s.launchFailed(ctx, inst, err)
	}
	if found != "" {
		s.log.InfoContext(ctx, "process retry found the instance an earlier attempt created", "process", id, "instance", found)
		return s.record(ctx, a, inst.ID, found)
	}
	return s.start(ctx, a, id)
}

// lookup asks DingTalk for the instance of inst created by an earlier
// attempt: the originator's instances of the template since the row was
// created, matched by the 流水号 field.
func (s *Service) lookup(ctx context.Context, inst Instance) (string, error) {
	var userID string
	if inst.InitiatorID != nil {
		if err := s.db.GetContext(ctx, &userID, `SELECT coalesce(dingtalk_userid, '') FROM users WHERE id = $1`, *inst.InitiatorID); err != nil {
			return "", fmt.Errorf("read initiator: %w", err)
		}
	}
	q := dingtalk.ApprovalQuery{ProcessCode: inst.ProcessCode, Start: inst.StartedAt.Add(-time.Minute)}
	if userID != "" {
		q.UserIDs = []string{userID}
	}
	ids, err := s.dt.ApprovalIDs(ctx, q)
	if err != nil {
		return "", err
	}
	key := inst.BusinessKey()
	for _, id := range ids {
		ap, err := s.dt.Approval(ctx, id)
		if err != nil {
			return "", err
		}
		for _, f := range ap.Form {
			if f.Name == "流水号" && f.Value == key {
				return id, nil
			}
		}
	}
	return "", nil
}

// start creates the DingTalk instance of a launching row (the caller holds
// its lease) and records it.
func (s *Service) start(ctx context.Context, a audit.Actor, id int64) (Instance, error) {
	var row struct {
		Form     string `db:"form"`
		UserID   string `db:"userid"`
		Code     string `db:"process_code"`
		Initator string `db:"initiator_name"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT p.form::text AS form, coalesce(u.dingtalk_userid, '') AS userid, p.process_code, p.initiator_name
		FROM processes p LEFT JOIN users u ON u.id = p.initiator_id WHERE p.id = $1`, id)
	if err != nil {
		return Instance{}, fmt.Errorf("read process %d: %w", id, err)
	}
	inst, err := s.Get(ctx, id)
	if err != nil {
		return inst, err
	}
	if row.UserID == "" {
		return s.launchFailed(ctx, inst, apperr.Rule("initiator_without_dingtalk", "", "发起人「%s」没有绑定钉钉账号，不能发起钉钉审批", row.Initator))
	}
	var form []FormField
	if err := json.Unmarshal([]byte(row.Form), &form); err != nil {
		return inst, fmt.Errorf("process %d form: %w", id, err)
	}
	values := make([]dingtalk.FormValue, len(form))
	for i, f := range form {
		values[i] = dingtalk.FormValue{Name: f.Name, Value: f.Value}
	}
	instanceID, err := s.dt.StartApproval(ctx, dingtalk.ApprovalRequest{ProcessCode: row.Code, OriginatorUserID: row.UserID, Form: values})
	if err != nil {
		return s.launchFailed(ctx, inst, err)
	}
	return s.record(ctx, a, id, instanceID)
}

// launchFailed keeps the row launching with the error, releases the lease
// and returns a clear error; DingTalk's own refusal is kept for the operator.
func (s *Service) launchFailed(ctx context.Context, inst Instance, cause error) (Instance, error) {
	msg := cause.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE processes SET launch_error = $2, launch_attempts = launch_attempts + 1,
		launch_lease_until = NULL, updated_at = now() WHERE id = $1 AND status = 'launching'`, inst.ID, msg); err != nil {
		s.log.ErrorContext(ctx, "record launch failure", "process", inst.ID, "err", err)
	}
	inst.LaunchError = msg
	s.log.WarnContext(ctx, "process launch failed", "process", inst.ID, "kind", inst.Kind, "err", cause)
	if e := apperr.As(cause); e != nil {
		return inst, e
	}
	return inst, &apperr.Error{Kind: apperr.KindUnavailable, Code: "dingtalk_approval_failed",
		Message: fmt.Sprintf("钉钉审批发起失败（流程 %d 已保存为“发起中”），请稍后再次发起；再次发起时会先查找钉钉中已创建的审批，不会重复创建", inst.ID), Err: cause,
		Details: map[string]any{"id": inst.ID, "status": StatusLaunching}}
}

// record stores the instance id of a launching row, moves it to running
// and runs the kind's Launched effect, in one transaction.
func (s *Service) record(ctx context.Context, a audit.Actor, id int64, instanceID string) (Instance, error) {
	var inst Instance
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if inst, err = get(ctx, tx, id, true); err != nil {
			return err
		}
		if inst.Status != StatusLaunching {
			return apperr.Conflict("process_not_launching", "流程已发起")
		}
		before := inst
		if _, err := tx.ExecContext(ctx, `UPDATE processes SET status = 'running', instance_id = $2, launch_error = '',
			launch_attempts = launch_attempts + 1, launch_lease_until = NULL, version = version + 1, updated_at = now()
			WHERE id = $1`, id, instanceID); err != nil {
			return fmt.Errorf("record instance %s: %w", instanceID, err)
		}
		if inst, err = get(ctx, tx, id, false); err != nil {
			return err
		}
		if e, ok := s.effect(inst.Kind); ok && e.Launched != nil {
			if err := e.Launched(ctx, tx, inst); err != nil {
				return err
			}
		}
		if err := audit.Record(ctx, tx, a, audit.Entry{Action: "process.launched", Entity: "process", EntityID: id,
			ProjectID: &inst.ProjectID, Before: before, After: inst}); err != nil {
			return err
		}
		// The approver may have decided before the instance was recorded.
		if err := s.replayUnknown(ctx, tx, id, instanceID); err != nil {
			return err
		}
		inst, err = get(ctx, tx, id, false)
		return err
	})
	if err != nil {
		// The instance exists in DingTalk; the row stays launching (with
		// the error, lease released) and a retry finds it by its 流水号.
		inst2, _ := s.Get(ctx, id)
		return s.launchFailed(ctx, inst2, err)
	}
	return inst, nil
}

// Reset clears a refused or terminated process so its kind can be
// launched again for the subject (重置, sysadmin); the row is kept.
func (s *Service) Reset(ctx context.Context, a audit.Actor, id int64, version int) (Instance, error) {
	var inst Instance
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if inst, err = get(ctx, tx, id, true); err != nil {
			return err
		}
		if version != 0 && version != inst.Version {
			return apperr.Conflict("stale_version", "流程已被他人修改，请刷新后重试")
		}
		if inst.Status != StatusRefused && inst.Status != StatusTerminated {
			return apperr.Conflict("process_not_resettable", "只有被拒绝或已撤销的流程可以重置（当前：%s）", inst.Status.Label())
		}
		before := inst
		if _, err := tx.ExecContext(ctx, `UPDATE processes SET status = 'reset', reset_at = now(), reset_by = $2,
			version = version + 1, updated_at = now() WHERE id = $1`, id, a.ID); err != nil {
			return fmt.Errorf("reset process %d: %w", id, err)
		}
		if inst, err = get(ctx, tx, id, false); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "process.reset", Entity: "process", EntityID: id,
			ProjectID: &inst.ProjectID, Before: before, After: inst})
	})
	return inst, err
}

// ActiveOrAgreed reports the status of the subject's current process of
// kind ("" when none is launching, running or agreed), for services that
// guard their own changes (e.g. a round in approval).
func ActiveOrAgreed(ctx context.Context, q sqlx.QueryerContext, projectID int64, kind Kind, subjectID int64) (Status, error) {
	var st Status
	err := sqlx.GetContext(ctx, q, &st, `SELECT status FROM processes WHERE project_id = $1 AND kind = $2 AND subject_id = $3
		AND status IN ('launching', 'running', 'agreed') ORDER BY id DESC LIMIT 1`, projectID, kind, subjectID)
	if db.IsNoRows(err) {
		return "", nil
	}
	return st, err
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

var errNoInstance = apperr.Conflict("process_not_launched", "流程尚未在钉钉中创建")

// dingtalkUnavailable is a failed read from DingTalk, for the user; a
// failure of the Redis holding DingTalk's tokens is our outage, not DingTalk's.
func dingtalkUnavailable(err error) error {
	if cache.IsUnavailable(err) {
		return apperr.ServiceUnavailable(err)
	}
	return &apperr.Error{Kind: apperr.KindUnavailable, Code: "dingtalk_unavailable", Message: "暂时无法从钉钉读取审批，请稍后重试", Err: err}
}

// ResumeLaunching retries the launches left launching (DingTalk failed, or
// the server stopped between the row and the call) for longer than
// olderThan and not held by another caller; each retry looks the instance
// up before creating one. It returns how many became running. For the
// scheduler: a user's launch is then never lost to a passing outage.
func (s *Service) ResumeLaunching(ctx context.Context, olderThan time.Duration) (int, error) {
	var ids []int64
	if err := s.db.SelectContext(ctx, &ids, `SELECT id FROM processes WHERE status = 'launching'
		AND updated_at < now() - $1::interval AND (launch_lease_until IS NULL OR launch_lease_until < now())
		ORDER BY id LIMIT 100`, fmt.Sprintf("%d seconds", int(olderThan.Seconds()))); err != nil {
		return 0, fmt.Errorf("find launching processes: %w", err)
	}
	n := 0
	for _, id := range ids {
		inst, err := s.Retry(ctx, audit.System, id)
		if err != nil {
			s.log.WarnContext(ctx, "resume launch failed", "process", id, "err", err)
			continue
		}
		if inst.Status != StatusLaunching {
			n++
		}
	}
	return n, nil
}
