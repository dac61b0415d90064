package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/attachment"
)

// The actions of the 项目流程 list, as the seed names them.
const (
	ActionLaunch = "launch" // 发起
	ActionRetry  = "retry"  // 发起 again a launch DingTalk did not confirm
	ActionView   = "view"   // 查看
	ActionBPM    = "bpm"    // 查看BPM
	ActionReset  = "reset"  // 重置 (sysadmin)
)

// Row is one process of the list.
type Row struct {
	Instance
	StatusLabel string   `json:"status_label"`
	Seq         int      `json:"seq"` // 1, 2, … among the kind's instances of the project
	Actions     []string `json:"actions"`
}

// KindRows is one kind of the list with its processes (every one, reset
// ones included, newest last).
type KindRows struct {
	KindInfo
	// Available is false while no service has registered the kind's effect
	// (its business flow is not built yet): it cannot be launched.
	Available bool     `json:"available"`
	Actions   []string `json:"actions"` // launch when a new process may start
	Processes []Row    `json:"processes"`
}

// List returns every kind for a project with its processes and the
// actions the caller may take (canReset: the caller is a sysadmin).
func (s *Service) List(ctx context.Context, projectID int64, canLaunch, canReset bool) ([]KindRows, error) {
	var all []Instance
	if err := s.db.SelectContext(ctx, &all, `SELECT `+instanceColumns+` FROM processes WHERE project_id = $1 ORDER BY id`, projectID); err != nil {
		return nil, fmt.Errorf("list processes of project %d: %w", projectID, err)
	}
	for i := range all {
		all[i].named()
	}
	out := make([]KindRows, 0, len(Kinds))
	for _, k := range Kinds {
		e, ok := s.effect(k.Kind)
		kr := KindRows{KindInfo: k, Available: ok && e.Prepare != nil, Actions: []string{}, Processes: []Row{}}
		busy := false // a process of the project itself (subject 0) is under way, agreed, or waits for a reset
		for _, inst := range all {
			if inst.Kind != k.Kind {
				continue
			}
			r := Row{Instance: inst, StatusLabel: inst.Status.Label(), Seq: len(kr.Processes) + 1, Actions: []string{ActionView}}
			if inst.InstanceID != "" {
				r.Actions = append(r.Actions, ActionBPM)
			}
			if inst.Status == StatusLaunching && canLaunch {
				r.Actions = append(r.Actions, ActionRetry)
			}
			if (inst.Status == StatusRefused || inst.Status == StatusTerminated) && canReset {
				r.Actions = append(r.Actions, ActionReset)
			}
			if inst.SubjectID == 0 && inst.Status != StatusReset {
				busy = true
			}
			kr.Processes = append(kr.Processes, r)
		}
		// Kinds about a subject (a round, a batch) may start for another
		// subject; the launch itself refuses a subject already under way.
		if kr.Available && canLaunch && (!busy || k.Repeatable) {
			kr.Actions = append(kr.Actions, ActionLaunch)
		}
		out = append(out, kr)
	}
	return out, nil
}

// LinkedFile is an attachment linked from a process's form.
type LinkedFile struct {
	attachment.Attachment
	Role string `json:"role"` // upload or sheet (计算表)
	Slot string `json:"slot"` // the named slot it was linked in, "" for 附件
}

// Detail is one process as 查看 shows it.
type Detail struct {
	Instance
	StatusLabel    string            `json:"status_label"`
	Label          string            `json:"label"`
	Title          string            `json:"title"`
	BusinessKey    string            `json:"business_key"`
	Form           []FormField       `json:"form"`
	Input          map[string]string `json:"input"`
	Attachments    []LinkedFile      `json:"attachments"`
	LaunchAttempts int               `json:"launch_attempts"`
	ResetAt        *time.Time        `json:"reset_at"`
	BPMURL         string            `json:"bpm_url"` // the instance in DingTalk, "" while launching
}

// Detail returns a process with its form and files.
func (s *Service) Detail(ctx context.Context, id int64) (Detail, error) {
	inst, err := s.Get(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Instance: inst, StatusLabel: inst.Status.Label(), Label: inst.Label, Title: inst.Title,
		BusinessKey: inst.BusinessKey(), Form: []FormField{}, Input: map[string]string{}, Attachments: []LinkedFile{}}
	var raw struct {
		Form     string     `db:"form"`
		Input    string     `db:"input"`
		Attempts int        `db:"launch_attempts"`
		ResetAt  *time.Time `db:"reset_at"`
	}
	if err := s.db.GetContext(ctx, &raw, `SELECT form::text AS form, input::text AS input, launch_attempts, reset_at FROM processes WHERE id = $1`, id); err != nil {
		return d, fmt.Errorf("read process %d: %w", id, err)
	}
	json.Unmarshal([]byte(raw.Form), &d.Form)
	json.Unmarshal([]byte(raw.Input), &d.Input)
	d.LaunchAttempts, d.ResetAt = raw.Attempts, raw.ResetAt
	if err := sqlx.SelectContext(ctx, s.db, &d.Attachments, `
		SELECT a.id, a.project_id, a.name, a.size, a.sha256, a.content_type, a.created_at, pa.role, pa.slot
		FROM process_attachments pa JOIN attachments a ON a.id = pa.attachment_id
		WHERE pa.process_id = $1 ORDER BY pa.role DESC, a.id`, id); err != nil {
		return d, fmt.Errorf("read attachments of process %d: %w", id, err)
	}
	d.BPMURL = s.BPMURL(inst.InstanceID)
	return d, nil
}

// BPMURL is where DingTalk shows an instance (查看BPM); "" without one.
func (s *Service) BPMURL(instanceID string) string {
	if instanceID == "" {
		return ""
	}
	return "https://aflow.dingtalk.com/dingtalk/mobile/homepage.htm?corpid=" + url.QueryEscape(s.cfg.DingTalk.CorpID) +
		"&dd_share=false&showmenu=false&dd_progress=false&back=native&swfrom=isv&dinghash=approval&procInstId=" +
		url.QueryEscape(instanceID) + "#approval"
}

// bpmStatusLabels are DingTalk's instance states in Chinese.
var bpmStatusLabels = map[string]string{"RUNNING": "审批中", "COMPLETED": "已完成", "TERMINATED": "已撤销"}

// BPM is the DingTalk instance of a process as DingTalk reports it now.
type BPM struct {
	InstanceID string `json:"instance_id"`
	Title      string `json:"title"`
	Status     string `json:"status"` // RUNNING, COMPLETED, TERMINATED
	// StatusLabel is DingTalk's status in Chinese.
	StatusLabel string      `json:"status_label"`
	Result      string      `json:"result"`
	BusinessID  string      `json:"business_id"` // DingTalk's 审批编号
	CreateTime  time.Time   `json:"create_time"`
	FinishTime  *time.Time  `json:"finish_time"`
	Form        []FormField `json:"form"`
	URL         string      `json:"url"`
}

// BPM reads the process's instance from DingTalk (查看BPM).
func (s *Service) BPM(ctx context.Context, id int64) (BPM, error) {
	inst, err := s.Get(ctx, id)
	if err != nil {
		return BPM{}, err
	}
	if inst.InstanceID == "" {
		return BPM{}, errNoInstance
	}
	a, err := s.dt.Approval(ctx, inst.InstanceID)
	if err != nil {
		return BPM{}, dingtalkUnavailable(err)
	}
	b := BPM{InstanceID: a.InstanceID, Title: a.Title, Status: a.Status, StatusLabel: bpmStatusLabels[a.Status], Result: a.Result, BusinessID: a.BusinessID,
		CreateTime: a.CreateTime, Form: []FormField{}, URL: s.BPMURL(a.InstanceID)}
	if !a.FinishTime.IsZero() {
		b.FinishTime = &a.FinishTime
	}
	for _, f := range a.Form {
		b.Form = append(b.Form, FormField{Name: f.Name, Value: f.Value})
	}
	return b, nil
}
