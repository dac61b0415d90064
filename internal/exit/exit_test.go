package exit

import (
	"strings"
	"testing"

	"hehuo/internal/calc"
	"hehuo/internal/position"
)

// position counts the I of agreed and paid exits as deducted; its literal
// must name this package's states.
func TestPositionPredicateNamesTheExitStates(t *testing.T) {
	for _, s := range []Status{StatusAgreed, StatusPaid} {
		if !strings.Contains(position.ExitAgreed, "'"+string(s)+"'") {
			t.Errorf("position.ExitAgreed %q does not name %s", position.ExitAgreed, s)
		}
	}
	for _, s := range []Status{StatusQuoted, StatusInApproval, StatusSuperseded} {
		if strings.Contains(position.ExitAgreed, "'"+string(s)+"'") {
			t.Errorf("position.ExitAgreed %q names %s", position.ExitAgreed, s)
		}
	}
}

// Every state and exit type has one Chinese label.
func TestLabels(t *testing.T) {
	for _, o := range Statuses() {
		if o.Label == "" || o.Label == o.Value {
			t.Errorf("state %s has no label", o.Value)
		}
	}
	for _, s := range []RequestStatus{RequestSubmitted, RequestQuoted, RequestLaunched, RequestDone, RequestRejected} {
		if s.Label() == string(s) {
			t.Errorf("request state %s has no label", s)
		}
	}
	for _, typ := range calc.ExitTypes() {
		if typ.Label() == string(typ) {
			t.Errorf("exit type %s has no label", typ)
		}
	}
}
