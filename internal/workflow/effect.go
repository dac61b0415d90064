package workflow

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/audit"
)

// Kind is a process kind of the process center (项目流程): one OA approval
// template with its business effect.
type Kind string

// The process kinds (DESIGN §2). Any kind has at most one active
// (launching or running) and one agreed instance per project and subject;
// repeatable kinds are launched for several subjects (rounds, batches,
// disclosures) and the list shows each instance.
const (
	KindPeakCapital           Kind = "peak_capital"           // 项目资金峰值
	KindEstablishment         Kind = "establishment"          // 事业合伙立项
	KindPeakChange            Kind = "peak_change"            // 资金峰值调整
	KindAdjustment            Kind = "adjustment"             // 立项信息变更
	KindSupplementary         Kind = "supplementary"          // 事业合伙补充立项 (repeatable)
	KindActualPeak            Kind = "actual_peak"            // 实际资金峰值确认 (repeatable)
	KindPrincipalDistribution Kind = "principal_distribution" // 本金分配
	KindProfitDistribution    Kind = "profit_distribution"    // 利润分配n
	KindLiquidation           Kind = "liquidation"            // 清算分配
	KindDisclosure            Kind = "disclosure"             // 披露 (repeatable)
	KindExit                  Kind = "exit"                   // 退出
)

// KindInfo describes a kind for lists and forms.
type KindInfo struct {
	Kind  Kind   `json:"kind"`
	Label string `json:"label"`
	// Repeatable kinds list every instance (补充立项 1, 2, …); the others
	// one line per subject.
	Repeatable bool `json:"repeatable"`
	// Title is the OA form's title, as in the seed (事业合伙投资-利润1分配审批).
	Title string `json:"title"`
	// PerProject kinds have the project itself as their subject (subject 0).
	PerProject bool `json:"per_project"`
	// Slots are the kind's named attachment slots (the seed's 添加附件
	// rows of the form): a file linked in a slot shows under its label.
	Slots []string `json:"slots"`
}

// distributionSlots are the named attachments of the seed's distribution
// forms (事业合伙投资-利润1分配审批).
var distributionSlots = []string{"股东投入与分配明细表（签字版材料）", "项目现金流量表", "项目动态利润测算"}

// Kinds lists every kind in the order of the seed's 项目流程 page.
var Kinds = []KindInfo{
	{KindPeakCapital, "项目资金峰值", false, "事业合伙投资-项目资金峰值审批", true, nil},
	{KindEstablishment, "事业合伙立项", false, "事业合伙投资-立项审批", false, nil},
	{KindPeakChange, "资金峰值调整", false, "事业合伙投资-资金峰值调整审批", false, nil},
	{KindAdjustment, "立项信息变更", false, "事业合伙投资-立项信息变更审批", false, nil},
	{KindSupplementary, "事业合伙补充立项", true, "事业合伙投资-补充立项审批", false, nil},
	{KindActualPeak, "实际资金峰值确认", true, "事业合伙投资-实际资金峰值确认审批", false, nil},
	{KindPrincipalDistribution, "本金分配", false, "事业合伙投资-本金分配审批", false, distributionSlots},
	// Each profit batch is its own process, named 利润分配n by its Prepare.
	{KindProfitDistribution, "利润分配", true, "事业合伙投资-利润分配审批", false, distributionSlots},
	{KindLiquidation, "清算分配", false, "事业合伙投资-清算分配审批", false, distributionSlots},
	{KindDisclosure, "披露", true, "事业合伙投资-披露审批", false, nil},
	{KindExit, "退出", false, "事业合伙投资-退出审批", false, nil},
}

// Info returns the description of k; ok is false for an unknown kind.
func (k Kind) Info() (KindInfo, bool) {
	for _, i := range Kinds {
		if i.Kind == k {
			return i, true
		}
	}
	return KindInfo{}, false
}

// Label is the kind's Chinese name, or the code for an unknown kind.
func (k Kind) Label() string {
	if i, ok := k.Info(); ok {
		return i.Label
	}
	return string(k)
}

// Status is a process instance's state (DESIGN §2): launching → running →
// agreed | refused | terminated; a refused or terminated instance may be
// reset (kept in history).
type Status string

// The instance states.
const (
	StatusLaunching  Status = "launching"
	StatusRunning    Status = "running"
	StatusAgreed     Status = "agreed"
	StatusRefused    Status = "refused"
	StatusTerminated Status = "terminated"
	StatusReset      Status = "reset"
)

// statusLabels are the instance states as the process list shows them.
var statusLabels = map[Status]string{StatusLaunching: "发起中", StatusRunning: "审批中", StatusAgreed: "已通过",
	StatusRefused: "已拒绝", StatusTerminated: "已撤销", StatusReset: "已重置"}

// Label is the state in Chinese, or the code itself for an unknown state.
func (s Status) Label() string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return string(s)
}

func init() { audit.DescribeStates("process", statusLabels) }

// Launch is a request to launch a process for a subject.
type Launch struct {
	ProjectID int64
	// SubjectID is the record the process is about (a round for
	// establishment/supplementary); 0 when the subject is the project itself.
	SubjectID int64
	Kind      Kind
	Actor     audit.Actor
	// Form holds what the user typed (情况说明 …); Prepare may read it.
	Form map[string]string
}

// FormField is one label and value of the OA form.
type FormField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Form is the subject's part of the OA form: its figures, in order.
type Form struct {
	Fields []FormField `json:"fields"`
	// Note is the subject's own 情况说明, used when the launcher typed none.
	Note string `json:"-"`
	// Label names this instance on the process list (利润分配2) and Title
	// its OA form (事业合伙投资-利润2分配审批); "" keeps the kind's.
	Label string `json:"-"`
	Title string `json:"-"`
}

// HasSlot reports whether slot is one of the kind's named attachment slots.
func (i KindInfo) HasSlot(slot string) bool {
	for _, s := range i.Slots {
		if s == slot {
			return true
		}
	}
	return false
}

// Instance is one launched process as Hehuo records it.
type Instance struct {
	ID          int64      `json:"id" db:"id"`
	ProjectID   int64      `json:"project_id" db:"project_id"`
	SubjectID   int64      `json:"subject_id" db:"subject_id"`
	Kind        Kind       `json:"kind" db:"kind"`
	Status      Status     `json:"status" db:"status"`
	InstanceID  string     `json:"instance_id" db:"instance_id"` // DingTalk's processInstanceId, "" while launching
	Result      string     `json:"result" db:"result"`           // agree, refuse or ""
	ProcessCode string     `json:"process_code" db:"process_code"`
	InitiatorID *int64     `json:"initiator_id" db:"initiator_id"`
	Initiator   string     `json:"initiator" db:"initiator_name"`
	Department  string     `json:"department" db:"department"`
	StartedAt   time.Time  `json:"started_at" db:"started_at"`
	FinishedAt  *time.Time `json:"finished_at" db:"finished_at"`
	LaunchError string     `json:"launch_error" db:"launch_error"`
	Version     int        `json:"version" db:"version"`
	// Label and Title name the instance (利润分配2, 事业合伙投资-利润2分配审批):
	// as its effect's Prepare gave them, else the kind's.
	Label string `json:"label" db:"label"`
	Title string `json:"title" db:"title"`
}

// named fills Label and Title from the kind when Prepare gave none.
func (i *Instance) named() {
	info, _ := i.Kind.Info()
	if i.Label == "" {
		i.Label = i.Kind.Label()
	}
	if i.Title == "" {
		i.Title = info.Title
	}
}

// BusinessKey is the 流水号 put into the OA form, by which a retried launch
// finds an instance an earlier attempt created.
func (i Instance) BusinessKey() string { return BusinessKey(i.ID) }

// BusinessKey is the 流水号 of process id.
func BusinessKey(id int64) string { return fmt.Sprintf("HH-%d", id) }

// Effect is what a kind does around its approval. Every function runs in a
// transaction of the process center and must not call the network.
type Effect struct {
	// Prepare runs in the launch transaction: it refuses a subject that may
	// not go to approval now (apperr) and returns the subject's figures for
	// the OA form.
	Prepare func(ctx context.Context, tx *sqlx.Tx, l Launch) (Form, error)
	// Launched runs when DingTalk accepted the instance (optional: e.g. a
	// round → in_approval).
	Launched func(ctx context.Context, tx *sqlx.Tx, inst Instance) error
	// Agreed is the business effect, run exactly once, in the transaction
	// that records the approval event.
	Agreed func(ctx context.Context, tx *sqlx.Tx, inst Instance) error
	// Ended runs when the instance was refused or terminated (optional).
	Ended func(ctx context.Context, tx *sqlx.Tx, inst Instance) error
	// Sheet returns the calculation sheet attached to the form (optional).
	Sheet func(ctx context.Context, q sqlx.QueryerContext, inst Instance) (name string, xlsx []byte, err error)
}

// Register sets the effect of kind, replacing any earlier one. Services
// call it when they are built.
func (s *Service) Register(kind Kind, e Effect) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.effects == nil {
		s.effects = map[Kind]Effect{}
	}
	s.effects[kind] = e
}

// Observer is told, in the same transaction, that a process of a kind was
// agreed, after the kind's own Agreed effect ran: another area reacts to an
// approval it does not own (internal/agreement generates the partners'
// agreements when a round or an adjustment is agreed) without the owner
// importing it. An error rolls the whole approval event back, like an
// error of the effect.
type Observer func(ctx context.Context, tx *sqlx.Tx, inst Instance) error

// Observe adds fn to the observers of kind's agreement; they run in the
// order added, after the Agreed effect, in the transaction that records
// the approval event. Services call it when they are built.
func (s *Service) Observe(kind Kind, fn Observer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.observers == nil {
		s.observers = map[Kind][]Observer{}
	}
	s.observers[kind] = append(s.observers[kind], fn)
}

// agreedObservers returns the observers of kind's agreement.
func (s *Service) agreedObservers(kind Kind) []Observer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]Observer(nil), s.observers[kind]...)
}

// effect returns the registered effect of kind.
func (s *Service) effect(kind Kind) (Effect, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.effects[kind]
	return e, ok
}
