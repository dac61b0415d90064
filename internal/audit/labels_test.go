package audit

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// actionLike is how an action reads: entity.verb, maybe entity.part.verb.
var actionLike = regexp.MustCompile(`^[a-z][a-z_]*(\.[a-z_]+)+$`)

// notActions are strings of the action shape under an action's prefix that
// are not actions.
var notActions = map[string]bool{}

// TestEveryRecordedActionHasALabel walks the Go sources and fails for an
// action or entity Record may write without a Chinese label: every
// Entity: literal, and every string shaped like an action whose first part
// names an area that records actions — Action: literals and the helpers that
// take the action as a parameter (e.g. "round.open") alike. Actions built at
// run time ("process." + state) are caught by Record itself in every test.
func TestEveryRecordedActionHasALabel(t *testing.T) {
	root := repoRoot(t)
	prefixes := map[string]bool{}
	for a := range actionLabels {
		prefixes[strings.SplitN(a, ".", 2)[0]] = true
	}
	fset := token.NewFileSet()
	seen := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "node_modules" || n == "web" || strings.HasPrefix(n, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				key, ok := n.Key.(*ast.Ident)
				lit, isLit := n.Value.(*ast.BasicLit)
				if !ok || !isLit || lit.Kind != token.STRING || key.Name != "Entity" {
					return true
				}
				v, _ := strconv.Unquote(lit.Value)
				if _, ok := entityLabels[v]; !ok {
					t.Errorf("%s: entity %q has no Chinese label", rel, v)
				}
			case *ast.BasicLit:
				if n.Kind != token.STRING {
					return true
				}
				v, _ := strconv.Unquote(n.Value)
				if !actionLike.MatchString(v) || !prefixes[strings.SplitN(v, ".", 2)[0]] || notActions[v] {
					return true
				}
				seen++
				if _, ok := actionLabels[v]; !ok {
					t.Errorf("%s: %q reads like an audit action but has no Chinese label (or list it in notActions)", rel, v)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 50 {
		t.Fatalf("found only %d actions in the sources; the walk is broken", seen)
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}
