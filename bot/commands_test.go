package bot

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"hehuo/internal/civil"
	"hehuo/internal/money"
	"hehuo/internal/project"
)

func TestParseCommand(t *testing.T) {
	cases := []struct{ in, cmd, arg string }{
		{"帮助", "帮助", ""},
		{"  我的跟投 ", "我的跟投", ""},
		{"\u3000我的跟投\u3000", "我的跟投", ""},
		{"@事业合伙助手 我的跟投", "我的跟投", ""},
		{"＠事业合伙助手\u3000进度\u3000滇池壹号", "进度", "滇池壹号"},
		{"进度 滇池 壹号", "进度", "滇池 壹号"},
		{"进度滇池壹号", "进度", "滇池壹号"},
		{"进度", "进度", ""},
		{"@bot", "", ""},
		{"", "", ""},
	}
	for _, c := range cases {
		cmd, arg := parseCommand(c.in)
		if cmd != c.cmd || arg != c.arg {
			t.Errorf("parseCommand(%q) = %q, %q; want %q, %q", c.in, cmd, arg, c.cmd, c.arg)
		}
	}
}

func TestYuan(t *testing.T) {
	cases := map[string]string{
		"0":          "0.00",
		"5":          "5.00",
		"999.9":      "999.90",
		"1000":       "1,000.00",
		"123456.78":  "123,456.78",
		"1234567.89": "1,234,567.89",
		"-20000.5":   "-20,000.50",
		"100000000":  "100,000,000.00",
	}
	for in, want := range cases {
		if got := money.Display(decimal.RequireFromString(in)); got != want {
			t.Errorf("money.Display(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestProgressTextStages(t *testing.T) {
	batch := "2019年10月"
	base := project.Project{Name: "滇池壹号", CityCompanyName: "昆明城市公司", BatchName: &batch,
		LandAcquiredOn: civil.Date{Year: 2019, Month: 10, Day: 12}, Operator: "锦艺", JointOperation: true, AcquisitionMethod: "招拍挂"}
	cases := []struct {
		name          string
		open, settled bool
		status, steps string
	}{
		{"open", true, false, "状态：已开放", ""},
		{"not open", false, false, "状态：未开放（请系统管理员开放项目）", ""},
		{"settled", true, true, "状态：已清算", ""},
	}
	for _, c := range cases {
		p := base
		p.IsOpen, p.IsSettled = c.open, c.settled
		s := progressText(p)
		for _, want := range []string{c.status, c.steps, "批次：2019年10月", "拿地时间：2019-10-12", "操盘方：锦艺（合作操盘）", "取得方式：招拍挂"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s: lacks %q:\n%s", c.name, want, s)
			}
		}
	}
	if s := progressText(project.Project{Name: "空白"}); !strings.Contains(s, "批次：—") || !strings.Contains(s, "拿地时间：—") {
		t.Errorf("missing fields not shown as —:\n%s", s)
	}
}
