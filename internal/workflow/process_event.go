package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/notify"
)

// dingtalkActor is the author of the changes an approval event makes.
var dingtalkActor = audit.Actor{Name: "钉钉审批"}

// instanceChange is bpms_instance_change's data.
type instanceChange struct {
	InstanceID  string `json:"processInstanceId"`
	ProcessCode string `json:"processCode"`
	Type        string `json:"type"`   // start, finish, terminate
	Result      string `json:"result"` // agree, refuse (finish only)
	FinishTime  int64  `json:"finishTime"`
}

// onInstanceChange moves a running process to agreed, refused or
// terminated and applies the kind's effect, inside the inbox's transaction
// (so the effect and the event's handled mark commit together). A process
// already past running is left alone: the move happens once even if the
// inbox were to hand the same change twice.
func (s *Service) onInstanceChange(ctx context.Context, tx *sqlx.Tx, ev Event) error {
	var d instanceChange
	if err := json.Unmarshal(ev.Payload, &d); err != nil || d.InstanceID == "" {
		s.log.WarnContext(ctx, "approval event without an instance id, ignored", "event", ev.ID, "err", err)
		return nil
	}
	var id int64
	err := sqlx.GetContext(ctx, tx, &id, `SELECT id FROM processes WHERE instance_id = $1`, d.InstanceID)
	if db.IsNoRows(err) {
		if d.Type != "finish" && d.Type != "terminate" {
			return nil
		}
		return s.unknownInstance(ctx, tx, ev, d)
	}
	if err != nil {
		return fmt.Errorf("find process of instance %s: %w", d.InstanceID, err)
	}
	return s.apply(ctx, tx, id, d)
}

// apply moves process id as the change d says, once.
func (s *Service) apply(ctx context.Context, tx *sqlx.Tx, id int64, d instanceChange) error {
	var (
		status Status
		result string
	)
	switch {
	case d.Type == "finish" && d.Result == "agree":
		status, result = StatusAgreed, "agree"
	case d.Type == "finish" && d.Result == "refuse":
		status, result = StatusRefused, "refuse"
	case d.Type == "terminate":
		status = StatusTerminated
	case d.Type == "finish":
		s.log.WarnContext(ctx, "approval finished with an unknown result, ignored", "process", id, "result", d.Result)
		return nil
	default:
		return nil // start: the launch recorded the instance already
	}
	inst, err := get(ctx, tx, id, true)
	if err != nil {
		return err
	}
	if inst.Status != StatusRunning {
		if inst.Status != status {
			s.log.WarnContext(ctx, "approval event for a process no longer running, ignored",
				"process", id, "status", inst.Status, "event_status", status)
		}
		return nil
	}
	finished := time.Now()
	if d.FinishTime > 0 {
		finished = time.UnixMilli(d.FinishTime)
	}
	before := inst
	if _, err := tx.ExecContext(ctx, `UPDATE processes SET status = $2, result = $3, finished_at = $4,
		version = version + 1, updated_at = now() WHERE id = $1`, id, status, result, finished); err != nil {
		return fmt.Errorf("move process %d to %s: %w", id, status, err)
	}
	if inst, err = get(ctx, tx, id, false); err != nil {
		return err
	}
	if e, ok := s.effect(inst.Kind); ok {
		run := e.Ended
		if status == StatusAgreed {
			run = e.Agreed
		}
		if run != nil {
			if err := run(ctx, tx, inst); err != nil {
				return fmt.Errorf("%s effect of process %d: %w", status, id, err)
			}
		}
	} else {
		s.log.WarnContext(ctx, "process kind without a registered effect", "process", id, "kind", inst.Kind)
	}
	if status == StatusAgreed {
		for _, fn := range s.agreedObservers(inst.Kind) {
			if err := fn(ctx, tx, inst); err != nil {
				return fmt.Errorf("observer of agreed process %d: %w", id, err)
			}
		}
	}
	if err := audit.Record(ctx, tx, dingtalkActor, audit.Entry{Action: "process." + string(status), Entity: "process",
		EntityID: id, ProjectID: &inst.ProjectID, Before: before, After: inst}); err != nil {
		return err
	}
	return s.alert(ctx, tx, inst, finished)
}

// replayUnknown applies the finish of an instance that arrived before the
// instance was recorded (a launch whose answer was lost and that a retry
// found later): the event was kept as unknown, with its payload in the inbox.
func (s *Service) replayUnknown(ctx context.Context, tx *sqlx.Tx, id int64, instanceID string) error {
	var payloads []string
	if err := sqlx.SelectContext(ctx, tx, &payloads, `SELECT e.payload::text FROM process_unknown_events u
		JOIN dingtalk_events e ON e.event_id = u.event_id WHERE u.instance_id = $1 ORDER BY u.received_at`, instanceID); err != nil {
		return fmt.Errorf("read early events of %s: %w", instanceID, err)
	}
	for _, p := range payloads {
		var d instanceChange
		if err := json.Unmarshal([]byte(p), &d); err != nil {
			continue
		}
		if err := s.apply(ctx, tx, id, d); err != nil {
			return err
		}
	}
	return nil
}

// unknownInstance records an event for an instance Hehuo has no row of.
// While a launch of the same template is under way the instance may be
// that launch's, not yet recorded: the event then fails, so DingTalk
// delivers it again after the launch has recorded the instance.
func (s *Service) unknownInstance(ctx context.Context, tx *sqlx.Tx, ev Event, d instanceChange) error {
	if d.ProcessCode != "" {
		var pending bool
		if err := sqlx.GetContext(ctx, tx, &pending, `SELECT EXISTS (SELECT 1 FROM processes WHERE status = 'launching'
			AND process_code = $1 AND launch_lease_until > now())`, d.ProcessCode); err != nil {
			return fmt.Errorf("find launching processes: %w", err)
		}
		if pending {
			return fmt.Errorf("approval %s may belong to a launch under way; deliver again later", d.InstanceID)
		}
	}
	s.log.WarnContext(ctx, "approval event for an instance Hehuo did not launch, recorded and ignored", "event", ev.ID, "instance", d.InstanceID)
	_, err := tx.ExecContext(ctx, `INSERT INTO process_unknown_events (event_id, instance_id) VALUES ($1, $2)
		ON CONFLICT (event_id) DO NOTHING`, ev.ID, d.InstanceID)
	return err
}

// resultLabels are the results as the robot alert says them.
var resultLabels = map[Status]string{StatusAgreed: "同意", StatusRefused: "拒绝", StatusTerminated: "已撤销"}

// alert posts the result to the project's city company group (robot),
// once per process.
func (s *Service) alert(ctx context.Context, tx *sqlx.Tx, inst Instance, finished time.Time) error {
	var p struct {
		Name string `db:"name"`
		City int64  `db:"city_company_id"`
	}
	if err := sqlx.GetContext(ctx, tx, &p, `SELECT name, city_company_id FROM projects WHERE id = $1`, inst.ProjectID); err != nil {
		return fmt.Errorf("read project %d: %w", inst.ProjectID, err)
	}
	projectID := inst.ProjectID
	_, _, err := notify.Enqueue(ctx, tx, notify.Notice{
		Kind: notify.KindRobot, OrgUnitID: &p.City, ProjectID: &projectID, Template: "approval_result",
		Data: map[string]any{
			"project_name": p.Name, "process_name": inst.Label, "result": resultLabels[inst.Status],
			"finished_at": finished.In(civil.Shanghai).Format("2006-01-02 15:04"),
			"link":        fmt.Sprintf("/process?project=%d&process=%d", inst.ProjectID, inst.ID),
		},
		DedupeKey: fmt.Sprintf("process:%d:result", inst.ID),
	})
	return err
}
