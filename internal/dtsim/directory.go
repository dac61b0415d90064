package dtsim

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"time"
)

// User is one member of the simulated organisation.
type User struct {
	UserID        string `json:"userid"`
	Name          string `json:"name"`
	Mobile        string `json:"mobile"`
	DeptID        int64  `json:"dept_id"` // 0 means the root department
	Title         string `json:"title"`
	JobNumber     string `json:"job_number"`
	UnionID       string `json:"unionid"` // default "union-"+userid
	ManagerUserID string `json:"manager_userid"`
	Admin         bool   `json:"admin"` // getuserinfo's sys
}

// Department is one department; ID 1 is the root.
type Department struct {
	ID       int64  `json:"dept_id"`
	ParentID int64  `json:"parent_id"`
	Name     string `json:"name"`
}

// authCode is a one-time code standing for a user.
type authCode struct {
	userID string
	exp    time.Time
}

// authCodeTTL is how long a 免登 or OAuth code is valid.
const authCodeTTL = 5 * time.Minute

// ErrUnknownUser is returned for a userid the simulator does not know.
var ErrUnknownUser = errors.New("dtsim: unknown userid")

// AddUser adds or replaces a user.
func (s *Sim) AddUser(u User) {
	if u.DeptID == 0 {
		u.DeptID = 1
	}
	if u.UnionID == "" {
		u.UnionID = "union-" + u.UserID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.UserID]; !ok {
		s.userSeq = append(s.userSeq, u.UserID)
	}
	s.users[u.UserID] = &u
}

// Users returns every user in the order they were added.
func (s *Sim) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.userSeq))
	for _, id := range s.userSeq {
		out = append(out, *s.users[id])
	}
	return out
}

// AddDepartment adds or replaces a department (parent 0 means the root).
func (s *Sim) AddDepartment(d Department) {
	if d.ParentID == 0 && d.ID != 1 {
		d.ParentID = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.depts[d.ID] = &d
}

// AuthCode issues a 免登 code for userid: single use, valid 5 minutes.
func (s *Sim) AuthCode(userid string) (string, error) {
	return s.issueCode(s.codes, userid)
}

// OAuthCode issues a PC QR sign-in (OAuth 2.0) code for userid: single use, 5 minutes.
func (s *Sim) OAuthCode(userid string) (string, error) {
	return s.issueCode(s.oauth, userid)
}

func (s *Sim) issueCode(m map[string]authCode, userid string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[userid] == nil {
		return "", fmt.Errorf("issue code for %q: %w", userid, ErrUnknownUser)
	}
	code := newID()
	m[code] = authCode{userID: userid, exp: s.now().Add(authCodeTTL)}
	return code, nil
}

// takeCode uses up a code; "" means bad, reused or expired.
func (s *Sim) takeCode(m map[string]authCode, code string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := m[code]
	if !ok {
		return ""
	}
	delete(m, code)
	if !s.now().Before(c.exp) {
		return ""
	}
	return c.userID
}

func (s *Sim) user(userid string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userid]
	if !ok {
		return User{}, false
	}
	return *u, true
}

func (s *Sim) getUserInfo(w http.ResponseWriter, r *http.Request) {
	var in struct{ Code string }
	if !decodeOld(w, r, &in) {
		return
	}
	userid := s.takeCode(s.codes, in.Code)
	u, ok := s.user(userid)
	if !ok {
		writeOld(w, 40078, "不存在的临时授权码", nil)
		return
	}
	level := 0
	if u.Admin {
		level = 1
	}
	writeOld(w, 0, "ok", map[string]any{"result": map[string]any{
		"userid": u.UserID, "name": u.Name, "unionid": u.UnionID, "associated_unionid": "",
		"device_id": "simdevice-" + u.UserID, "sys": u.Admin, "sys_level": level,
	}})
}

func (s *Sim) getUser(w http.ResponseWriter, r *http.Request) {
	var in struct{ UserID string }
	if !decodeOld(w, r, &in) {
		return
	}
	u, ok := s.user(in.UserID)
	if !ok {
		writeOld(w, 60121, "找不到该用户", nil)
		return
	}
	writeOld(w, 0, "ok", map[string]any{"result": userDetail(u)})
}

// userDetail is user/get's and user/list's view of a user.
func userDetail(u User) map[string]any {
	return map[string]any{
		"userid": u.UserID, "unionid": u.UnionID, "name": u.Name, "avatar": "", "mobile": u.Mobile,
		"state_code": "86", "job_number": u.JobNumber, "title": u.Title, "email": "", "org_email": "",
		"work_place": "", "dept_id_list": []int64{u.DeptID},
		"dept_order_list": []map[string]any{{"dept_id": u.DeptID, "order": 0}},
		"leader_in_dept":  []map[string]any{{"dept_id": u.DeptID, "leader": false}},
		"manager_userid":  u.ManagerUserID, "active": true, "admin": u.Admin, "boss": false, "leader": false,
		"hired_date": 0, "role_list": []any{}, "extension": "{}",
	}
}

func (s *Sim) getByUnionID(w http.ResponseWriter, r *http.Request) {
	var in struct{ UnionID string }
	if !decodeOld(w, r, &in) {
		return
	}
	s.mu.Lock()
	var found string
	for _, u := range s.users {
		if u.UnionID == in.UnionID && in.UnionID != "" {
			found = u.UserID
		}
	}
	s.mu.Unlock()
	if found == "" {
		writeOld(w, 60121, "找不到该用户", nil)
		return
	}
	writeOld(w, 0, "ok", map[string]any{"result": map[string]any{"contact_type": 0, "userid": found}})
}

func (s *Sim) listSubDepartments(w http.ResponseWriter, r *http.Request) {
	var in struct {
		DeptID int64 `json:"dept_id"`
	}
	if !decodeOld(w, r, &in) {
		return
	}
	if in.DeptID == 0 {
		in.DeptID = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.depts[in.DeptID] == nil {
		writeOld(w, 60003, "部门不存在", nil)
		return
	}
	out := []map[string]any{}
	for _, d := range s.sortedDepts() {
		if d.ParentID == in.DeptID && d.ID != 1 {
			out = append(out, map[string]any{"dept_id": d.ID, "name": d.Name, "parent_id": d.ParentID,
				"create_dept_group": false, "auto_add_user": false})
		}
	}
	writeOld(w, 0, "ok", map[string]any{"result": out})
}

func (s *Sim) getDepartment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		DeptID int64 `json:"dept_id"`
	}
	if !decodeOld(w, r, &in) {
		return
	}
	s.mu.Lock()
	d := s.depts[in.DeptID]
	s.mu.Unlock()
	if d == nil {
		writeOld(w, 60003, "部门不存在", nil)
		return
	}
	res := map[string]any{"dept_id": d.ID, "name": d.Name}
	if d.ID != 1 {
		res["parent_id"] = d.ParentID
	}
	writeOld(w, 0, "ok", map[string]any{"result": res})
}

// sortedDepts lists departments by id; s.mu must be held.
func (s *Sim) sortedDepts() []*Department {
	out := make([]*Department, 0, len(s.depts))
	for _, d := range s.depts {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Sim) listUsers(w http.ResponseWriter, r *http.Request) {
	var in struct {
		DeptID int64 `json:"dept_id"`
		Cursor int   `json:"cursor"`
		Size   int   `json:"size"`
	}
	if !decodeOld(w, r, &in) {
		return
	}
	if in.Size <= 0 || in.Size > 100 || in.Cursor < 0 {
		writeOld(w, 400002, "无效的参数：size 须在1到100之间", nil)
		return
	}
	s.mu.Lock()
	if s.depts[in.DeptID] == nil {
		s.mu.Unlock()
		writeOld(w, 60003, "部门不存在", nil)
		return
	}
	var members []User
	for _, id := range s.userSeq {
		if u := s.users[id]; u.DeptID == in.DeptID {
			members = append(members, *u)
		}
	}
	s.mu.Unlock()
	list := []map[string]any{}
	end := min(in.Cursor+in.Size, len(members))
	for i := in.Cursor; i < end; i++ {
		list = append(list, userDetail(members[i]))
	}
	res := map[string]any{"has_more": end < len(members), "list": list}
	if end < len(members) {
		res["next_cursor"] = end
	}
	writeOld(w, 0, "ok", map[string]any{"result": res})
}

var oauthTmpl = template.Must(template.New("auth").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>钉钉扫码登录（模拟）</title>
<style>body{font-family:sans-serif;max-width:420px;margin:40px auto}button{display:block;width:100%;margin:6px 0;padding:10px;font-size:15px}</style>
</head><body><h2>钉钉扫码登录（模拟器）</h2><p>选择以哪位员工身份扫码：</p>
{{if .Error}}<p style="color:#c00">{{.Error}}</p>{{end}}
<form method="post">
<input type="hidden" name="redirect_uri" value="{{.Redirect}}"><input type="hidden" name="state" value="{{.State}}">
<input type="hidden" name="client_id" value="{{.ClientID}}">
{{range .Users}}<button name="userid" value="{{.UserID}}" data-test="dtsim-oauth-{{.UserID}}">{{.Name}}（{{.UserID}}）{{.Title}}</button>{{end}}
</form></body></html>`))

// oauthPage stands in for login.dingtalk.com/oauth2/auth: a list of users to "scan" as.
func (s *Sim) oauthPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := map[string]any{"Redirect": q.Get("redirect_uri"), "State": q.Get("state"), "ClientID": q.Get("client_id"), "Users": s.Users()}
	if q.Get("client_id") != s.cfg.App.AppKey {
		data["Error"] = "client_id 不是本应用的 AppKey"
		data["Users"] = nil
	} else if q.Get("redirect_uri") == "" {
		data["Error"] = "缺少 redirect_uri"
		data["Users"] = nil
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	oauthTmpl.Execute(w, data)
}

// oauthChoose issues an OAuth code for the chosen user and redirects back.
func (s *Sim) oauthChoose(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	target, err := url.Parse(r.PostForm.Get("redirect_uri"))
	if err != nil || target.Scheme == "" || r.PostForm.Get("client_id") != s.cfg.App.AppKey {
		http.Error(w, "redirect_uri 或 client_id 无效", http.StatusBadRequest)
		return
	}
	code, err := s.OAuthCode(r.PostForm.Get("userid"))
	q := target.Query()
	if err != nil {
		q.Set("error", "user_not_found")
	} else {
		q.Set("authCode", code)
	}
	q.Set("state", r.PostForm.Get("state"))
	target.RawQuery = q.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

func (s *Sim) userAccessToken(w http.ResponseWriter, r *http.Request) {
	var in struct{ ClientID, ClientSecret, Code, GrantType string }
	if !decodeNew(w, r, &in) {
		return
	}
	if in.ClientID != s.cfg.App.AppKey || in.ClientSecret != s.cfg.App.AppSecret {
		writeNewErr(w, http.StatusBadRequest, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
		return
	}
	if in.GrantType != "authorization_code" {
		writeNewErr(w, http.StatusBadRequest, "invalidParameter.grantType", "grantType 须为 authorization_code")
		return
	}
	userid := s.takeCode(s.oauth, in.Code)
	if userid == "" {
		writeNewErr(w, http.StatusBadRequest, "invalidAuthCode", "授权码无效或已过期")
		return
	}
	tok := "simutok-" + newID()
	s.mu.Lock()
	s.userTokens[tok] = userToken{userID: userid, exp: s.now().Add(s.cfg.TokenTTL)}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"accessToken": tok, "refreshToken": "simrtok-" + newID(),
		"expireIn": int(s.cfg.TokenTTL.Seconds()), "corpId": s.cfg.App.CorpID})
}

func (s *Sim) usersMe(w http.ResponseWriter, r *http.Request) {
	tok := r.Header.Get("x-acs-dingtalk-access-token")
	s.mu.Lock()
	ut, ok := s.userTokens[tok]
	if ok && !s.now().Before(ut.exp) {
		ok = false
	}
	var u User
	if p := s.users[ut.userID]; ok && p != nil {
		u = *p
	} else {
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		writeNewErr(w, http.StatusUnauthorized, "InvalidAuthentication", "不合法的access_token")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"nick": u.Name, "avatarUrl": "", "mobile": u.Mobile,
		"openId": "open-" + u.UserID, "unionId": u.UnionID, "email": "", "stateCode": "86"})
}
