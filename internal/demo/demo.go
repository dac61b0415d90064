// Package demo loads the demo group shaped like the seed manual: 锦艺集团 with
// its holding and property groups, city companies and 直属项目公司, the seed's
// seven projects with their batches, dates and operators, accountants with
// grants, and a few dozen partners with invented names. It goes through the
// services, so the demo's history is in the audit log like any other.
package demo

import (
	"context"
	"fmt"

	"hehuo/internal/audit"
	"hehuo/internal/auth"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/org"
	"hehuo/internal/project"
)

// Services are what the loader writes through.
type Services struct {
	DB       *db.DB
	Org      *org.Service
	Auth     *auth.Service
	Projects *project.Service
}

// Summary says what was loaded.
type Summary struct {
	Loaded      bool // false when the demo data was already there
	Projects    int
	Accountants []Account
	Partners    int
}

// Account is a demo staff member a newcomer can sign in as.
type Account struct {
	Name           string
	DingTalkUserID string
	Scope          string
}

const groupName = "锦艺集团"

type unitSpec struct {
	name, kind, parent string
}

var units = []unitSpec{
	{groupName, org.KindGroup, ""},
	{"控股集团", org.KindHolding, groupName},
	{"置业集团", org.KindProperty, groupName},
	{"环沪城市公司", org.KindCity, "置业集团"},
	{"澄靖直属项目公司", org.KindCity, "环沪城市公司"},
	{"泰安直属项目公司", org.KindCity, "环沪城市公司"},
	{"马鞍山直属项目公司", org.KindCity, "环沪城市公司"},
	{"常州直属项目公司", org.KindCity, "环沪城市公司"},
	{"株洲直属项目公司", org.KindCity, "置业集团"},
	{"昆明城市公司", org.KindCity, "置业集团"},
}

type projectSpec struct {
	name, city, landOn, batch string
	joint                     bool
	operator, method          string
}

// The seed manual's project list (后台管理 / 项目维护).
var projects = []projectSpec{
	{"昆明-城市之光", "昆明城市公司", "2019-02-21", "2019年2月", true, "锦艺操盘", "招拍挂"},
	{"靖江项目", "澄靖直属项目公司", "2019-10-21", "2019年10月", false, "锦艺方", "招拍挂"},
	{"泰安-锦艺誉峯", "泰安直属项目公司", "2019-03-21", "2019年3月", false, "锦艺操盘", "招拍挂"},
	{"马鞍山-林语春风", "马鞍山直属项目公司", "2019-03-15", "2019年3月", false, "锦艺方", "招拍挂"},
	{"株洲-锦湘悦", "株洲直属项目公司", "2019-05-05", "2018年11月", true, "自操盘", "收并购"},
	{"江阴项目", "澄靖直属项目公司", "2019-10-30", "2019年10月", true, "锦艺方", "招拍挂"},
	{"常州项目", "常州直属项目公司", "2019-10-23", "2019年10月", false, "锦艺方", "招拍挂"},
}

type accountantSpec struct {
	name, userid, unit, title string
}

var accountants = []accountantSpec{
	{"沈嘉禾", "demo_acct_huanhu", "环沪城市公司", "环沪城市公司经营会计"},
	{"顾以宁", "demo_acct_kunming", "昆明城市公司", "昆明城市公司经营会计"},
	{"欧阳澈", "demo_acct_zhuzhou", "株洲直属项目公司", "株洲直属项目经营会计"},
	{"钱书瑶", "demo_acct_property", "置业集团", "置业集团经营会计"},
	{"宋知远", "demo_acct_holding", "控股集团", "控股集团经营会计"},
}

// Invented partner names; never those printed in the manual.
var partnerNames = []string{
	"林清远", "韩书白", "苏映雪", "程一帆", "陆明川", "许听澜", "唐若溪", "叶知秋", "江晚舟", "周慕白",
	"何向阳", "罗星野", "温如玉", "方其琛", "孟南星", "白景行", "夏沐晨", "秦观海", "魏子衿", "姚望舒",
	"邵砚青", "傅云峥", "谭小满", "冯嘉树", "贺南枝", "曹一鸣", "邱语桐", "严松涛", "龚晴川", "黎安歌",
	"庞立信", "柏含章", "喻清和", "萧北辰", "祁梦蝶", "滕致远",
}

var partnerGrades = []struct{ grade, title string }{
	{"M5", "城市公司总经理"}, {"M4", "项目总经理"}, {"M3", "营销总监"}, {"M3", "工程总监"},
	{"P6", "成本经理"}, {"P5", "财务经理"}, {"P5", "设计经理"}, {"P4", "项目工程师"}, {"P4", "置业顾问主管"},
}

// Load creates the demo data once; a second call finds it and does nothing.
func Load(ctx context.Context, s Services) (Summary, error) {
	var sum Summary
	var exists bool
	if err := s.DB.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM org_units WHERE name = $1 AND parent_id IS NULL)`, groupName); err != nil {
		return sum, fmt.Errorf("look for demo data: %w", err)
	}
	for _, a := range accountants {
		sum.Accountants = append(sum.Accountants, Account{Name: a.name, DingTalkUserID: a.userid, Scope: a.unit})
	}
	sum.Projects, sum.Partners = len(projects), len(partnerNames)
	if exists {
		return sum, nil
	}
	sum.Loaded = true
	a := audit.System
	ids := map[string]int64{}
	for _, u := range units {
		in := org.UnitInput{Name: u.name, Kind: u.kind}
		if u.parent != "" {
			p := ids[u.parent]
			in.ParentID = &p
		}
		unit, err := s.Org.CreateUnit(ctx, a, in)
		if err != nil {
			return sum, fmt.Errorf("demo org unit %s: %w", u.name, err)
		}
		ids[u.name] = unit.ID
	}
	batches := map[string]int64{}
	for _, p := range projects {
		if _, ok := batches[p.batch]; ok {
			continue
		}
		b, err := s.Projects.CreateBatch(ctx, a, p.batch)
		if err != nil {
			return sum, fmt.Errorf("demo batch %s: %w", p.batch, err)
		}
		batches[p.batch] = b.ID
	}
	for i, p := range projects {
		landOn, err := civil.Parse(p.landOn)
		if err != nil {
			return sum, err
		}
		batch := batches[p.batch]
		_, err = s.Projects.Create(ctx, a, project.Input{
			Code: fmt.Sprintf("JY-%03d", i+1), Name: p.name, CityCompanyID: ids[p.city], LandAcquiredOn: landOn,
			BatchID: &batch, IsOpen: true, JointOperation: p.joint, Operator: p.operator, AcquisitionMethod: p.method,
		})
		if err != nil {
			return sum, fmt.Errorf("demo project %s: %w", p.name, err)
		}
	}
	for i, acc := range accountants {
		unit := ids[acc.unit]
		u, err := s.Org.CreateUser(ctx, a, org.UserInput{
			Name: acc.name, DingTalkUserID: acc.userid, Mobile: fmt.Sprintf("1390000%04d", i+1), JobNumber: fmt.Sprintf("A%04d", i+1),
			Title: acc.title, Grade: "P5", OrgUnitID: &unit, Roles: []string{org.RoleAccountant},
		})
		if err != nil {
			return sum, fmt.Errorf("demo accountant %s: %w", acc.name, err)
		}
		if _, err := s.Auth.SetGrants(ctx, a, auth.Target{OrgUnitID: &unit},
			[]auth.Grant{{Role: org.RoleAccountant, UserIDs: []int64{u.ID}}}); err != nil {
			return sum, fmt.Errorf("demo grant %s: %w", acc.name, err)
		}
	}
	partnerUnits := []string{"环沪城市公司", "澄靖直属项目公司", "泰安直属项目公司", "马鞍山直属项目公司", "常州直属项目公司", "株洲直属项目公司", "昆明城市公司", "置业集团"}
	for i, name := range partnerNames {
		g := partnerGrades[i%len(partnerGrades)]
		unit := ids[partnerUnits[i%len(partnerUnits)]]
		if _, err := s.Org.CreateUser(ctx, a, org.UserInput{
			Name: name, DingTalkUserID: fmt.Sprintf("demo_partner_%02d", i+1), Mobile: fmt.Sprintf("1380000%04d", i+1),
			JobNumber: fmt.Sprintf("E%04d", i+1), Title: g.title, Grade: g.grade, OrgUnitID: &unit,
		}); err != nil {
			return sum, fmt.Errorf("demo partner %s: %w", name, err)
		}
	}
	return sum, nil
}
