package distribution

import (
	"strings"
	"testing"
)

// selectLineFigures is selectLines with the trace left out: if selectLines
// is reworded so that the replacement no longer applies, the effects would
// read the traces again (slow, not wrong) — this says so.
func TestSelectLineFiguresLeavesOutTrace(t *testing.T) {
	if strings.Contains(selectLineFigures, "l.trace") || !strings.Contains(selectLineFigures, "'[]'::jsonb AS trace") {
		t.Fatalf("selectLineFigures still reads the trace:\n%s", selectLineFigures)
	}
}
