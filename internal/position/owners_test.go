package position_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"hehuo/internal/adjustment"
	"hehuo/internal/distribution"
	"hehuo/internal/position"
	"hehuo/internal/round"
)

// moneyTables are the tables of money positions. Each is named in the SQL
// of its owner and of internal/position only (DESIGN §3: "Each table has
// one owning package; other packages ask the owner through small query
// methods"):
//
//   - allocation_lines: internal/round writes them (calculation, edits) and
//     reads them for its own screens and checks;
//   - adjustment_lines: internal/adjustment writes them (R5 lines,
//     settlements, reversals) and reads them for its own screens;
//   - ledger_postings, ledger_balances: internal/ledger writes them and
//     reads them for its statements, balances and Reconcile;
//   - opening_balances: internal/opening writes them (期初数据导入) and
//     reads them for its own screen; they carry the capital interest to
//     date that position adds to Interest;
//   - distribution_lines: internal/distribution writes them (batches,
//     calculation, manual entry, payouts) and reads them for its screens;
//     position reads the B they deducted (R6);
//   - exit_lines: internal/exit writes them (离职退休测算) and reads them
//     for its screens and report; position reads the I an agreed exit
//     settled (R9);
//   - internal/position is the one read model across areas: principal in
//     force, paid, outstanding, interest and profit for everyone else.
//
// Packages whose name ends in "test" (internal/holding/holdingtest, …) are
// builders for tests, never linked into the binary; they may write
// fixtures directly.
var moneyTables = map[string][]string{
	"allocation_lines":   {"internal/round", "internal/position"},
	"adjustment_lines":   {"internal/adjustment", "internal/position"},
	"ledger_postings":    {"internal/ledger", "internal/position"},
	"ledger_balances":    {"internal/ledger", "internal/position"},
	"opening_balances":   {"internal/opening", "internal/position"},
	"distribution_lines": {"internal/distribution", "internal/position"},
	"exit_lines":         {"internal/exit", "internal/position"},
	// A minority shareholder's money is not a partner's position: only its
	// owner reads it (小股东信息表 included).
	"shareholder_distribution_lines": {"internal/shareholderdist"},
}

var tableRE = regexp.MustCompile(`\b(allocation_lines|adjustment_lines|ledger_postings|ledger_balances|opening_balances|distribution_lines|exit_lines|shareholder_distribution_lines)\b`)

// mentions returns, per table, the string literals of a Go source that
// name it (SQL, or a table name passed to COPY).
func mentions(t *testing.T, fset *token.FileSet, name string, src any) map[string][]string {
	return mentionsOf(t, tableRE, fset, name, src)
}

// mentionsOf is mentions for the tables re matches.
func mentionsOf(t *testing.T, re *regexp.Regexp, fset *token.FileSet, name string, src any) map[string][]string {
	t.Helper()
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			s = lit.Value
		}
		for _, m := range re.FindAllString(s, -1) {
			out[m] = append(out[m], fset.Position(lit.Pos()).String())
		}
		return true
	})
	return out
}

// TestOnlyOwnersQueryMoneyTables walks every non-test Go file of the
// module and fails when a package outside the allow-list names one of the
// money tables in a string literal.
func TestOnlyOwnersQueryMoneyTables(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var bad []string
	seen := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "node_modules" || n == "web" && strings.HasSuffix(filepath.Dir(path), "microapp") || strings.HasPrefix(n, ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		pkg := filepath.ToSlash(filepath.Dir(rel))
		if strings.HasSuffix(pkg, "test") {
			return nil
		}
		for table, at := range mentions(t, fset, path, nil) {
			seen[table] = true
			allowed := false
			for _, owner := range moneyTables[table] {
				allowed = allowed || pkg == owner
			}
			if !allowed {
				bad = append(bad, table+" in "+strings.Join(at, ", "))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Errorf("only its owner and internal/position may query %s", b)
	}
	// The walk found the owners' own SQL, so it is looking at the right tree.
	for table := range moneyTables {
		if !seen[table] {
			t.Errorf("no package names %s: is the walk looking at the module?", table)
		}
	}
}

// The scanner sees a table in any string literal, raw or quoted.
func TestMentionsFindsTablesInLiterals(t *testing.T) {
	src := "package x\nconst q = `SELECT sum(amount) FROM ledger_postings`\nvar r = \"DELETE FROM allocation_lines\"\nvar ok = \"allocation_lines_partner_idx_x\"\n"
	got := mentions(t, token.NewFileSet(), "x.go", src)
	if len(got["ledger_postings"]) != 1 || len(got["allocation_lines"]) != 1 || len(got) != 2 {
		t.Fatalf("mentions = %v", got)
	}
}

// The predicates are written with the owners' own state names.
func TestPredicatesUseTheOwnersStates(t *testing.T) {
	if want := "r.status = '" + string(round.StatusApproved) + "'"; position.RoundApproved != want {
		t.Errorf("RoundApproved = %q, want %q", position.RoundApproved, want)
	}
	if want := "a.status = '" + adjustment.StatusAgreed + "'"; position.AdjustmentAgreed != want {
		t.Errorf("AdjustmentAgreed = %q, want %q", position.AdjustmentAgreed, want)
	}
	if want := "b.status IN ('" + string(distribution.StatusApproved) + "', '" + string(distribution.StatusPaid) + "') AND b.kind IN ('" +
		string(distribution.KindPrincipal) + "', '" + string(distribution.KindLiquidation) + "')"; position.DistributionPosted != want {
		t.Errorf("DistributionPosted = %q, want %q", position.DistributionPosted, want)
	}
	if position.KindAdjustmentRefund != "adjustment_"+adjustment.DirectionRefund ||
		position.KindAdjustmentTopUp != "adjustment_"+adjustment.DirectionTopUp {
		t.Errorf("ledger kinds of settlements differ from the adjustment service's")
	}
}

// The round service keeps its state in its own tables: it reads neither the
// outbox's deliveries nor the audit log as business state (migration 00025).
func TestRoundReadsNoDeliveriesNorAuditLog(t *testing.T) {
	re := regexp.MustCompile(`\b(notify_deliveries|notify_outbox|audit_log)\b`)
	files, err := filepath.Glob("../round/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("round sources: %v %v", files, err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		for table, at := range mentionsOf(t, re, fset, f, nil) {
			t.Errorf("round reads %s in %s", table, strings.Join(at, ", "))
		}
	}
}
