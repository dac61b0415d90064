package dingtalk

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// UserInfo is who signed in with a DingTalk auth code.
type UserInfo struct {
	UserID  string
	Name    string
	UnionID string
	IsAdmin bool // an administrator of the DingTalk organisation
}

// User is an employee as the DingTalk directory knows them.
type User struct {
	UserID        string
	UnionID       string
	Name          string
	Mobile        string
	Title         string
	JobNumber     string
	DeptIDs       []int64
	ManagerUserID string
	Active        bool
}

// Me is the user a PC sign-in's user access token belongs to; it has no userid.
type Me struct {
	UnionID string
	Nick    string
	Mobile  string
}

// Department is one department of the DingTalk directory.
type Department struct {
	ID       int64
	ParentID int64
	Name     string
}

// UserByAuthCode exchanges a 免登 auth code (single use, 5 minutes) for the
// user it was issued to. A bad, expired or reused code is IsInvalidAuthCode.
func (c *Client) UserByAuthCode(ctx context.Context, code string) (UserInfo, error) {
	var out struct {
		Result struct {
			UserID  string `json:"userid"`
			Name    string `json:"name"`
			UnionID string `json:"unionid"`
			Sys     bool   `json:"sys"`
		} `json:"result"`
	}
	if err := c.oapi(ctx, "/topapi/v2/user/getuserinfo", map[string]string{"code": code}, &out); err != nil {
		return UserInfo{}, fmt.Errorf("user by auth code: %w", err)
	}
	r := out.Result
	return UserInfo{UserID: r.UserID, Name: r.Name, UnionID: r.UnionID, IsAdmin: r.Sys}, nil
}

// apiUser is a user in the old family's answers (user/get, user/list).
type apiUser struct {
	UserID        string  `json:"userid"`
	UnionID       string  `json:"unionid"`
	Name          string  `json:"name"`
	Mobile        string  `json:"mobile"`
	Title         string  `json:"title"`
	JobNumber     string  `json:"job_number"`
	DeptIDList    []int64 `json:"dept_id_list"`
	ManagerUserID string  `json:"manager_userid"`
	Active        bool    `json:"active"`
}

func (u apiUser) user() User {
	return User{UserID: u.UserID, UnionID: u.UnionID, Name: u.Name, Mobile: u.Mobile, Title: u.Title,
		JobNumber: u.JobNumber, DeptIDs: u.DeptIDList, ManagerUserID: u.ManagerUserID, Active: u.Active}
}

// User returns the directory entry of userid; an unknown user is IsUserNotFound.
func (c *Client) User(ctx context.Context, userID string) (User, error) {
	var out struct {
		Result apiUser `json:"result"`
	}
	body := map[string]string{"userid": userID, "language": "zh_CN"}
	if err := c.oapi(ctx, "/topapi/v2/user/get", body, &out); err != nil {
		return User{}, fmt.Errorf("get user %s: %w", userID, err)
	}
	return out.Result.user(), nil
}

// UserIDByUnionID maps a unionid (from PC sign-in) to the organisation's userid.
func (c *Client) UserIDByUnionID(ctx context.Context, unionID string) (string, error) {
	var out struct {
		Result struct {
			UserID string `json:"userid"`
		} `json:"result"`
	}
	if err := c.oapi(ctx, "/topapi/user/getbyunionid", map[string]string{"unionid": unionID}, &out); err != nil {
		return "", fmt.Errorf("user id by union id: %w", err)
	}
	return out.Result.UserID, nil
}

// LoginURL is DingTalk's PC sign-in (QR) page, which sends the browser back
// to redirectURI with ?authCode=…&state=state.
func (c *Client) LoginURL(redirectURI, state string) string {
	q := url.Values{}
	q.Set("redirect_uri", redirectURI)
	q.Set("response_type", "code")
	q.Set("client_id", c.cfg.AppKey)
	q.Set("scope", "openid")
	q.Set("state", state)
	q.Set("prompt", "consent")
	return strings.TrimRight(c.cfg.LoginBase, "/") + "/oauth2/auth?" + q.Encode()
}

// UserAccessToken exchanges a PC sign-in's authCode for the user's access
// token. A token issued for another organisation than ours is refused
// (Error code "corpMismatch"), since the user then is not our employee.
func (c *Client) UserAccessToken(ctx context.Context, code string) (string, error) {
	var out struct {
		AccessToken string `json:"accessToken"`
		CorpID      string `json:"corpId"`
	}
	body := map[string]string{"clientId": c.cfg.AppKey, "clientSecret": c.cfg.AppSecret, "code": code, "grantType": "authorization_code"}
	r := request{api: "/v1.0/oauth2/userAccessToken", method: http.MethodPost, body: body}
	if err := c.do(ctx, r, &out); err != nil {
		return "", fmt.Errorf("user access token: %w", err)
	}
	if out.CorpID != "" && c.cfg.CorpID != "" && out.CorpID != c.cfg.CorpID {
		return "", fmt.Errorf("user access token: %w", &Error{API: r.api, HTTPStatus: http.StatusOK, Code: "corpMismatch",
			Message: "signed in to " + out.CorpID + ", not " + c.cfg.CorpID})
	}
	return out.AccessToken, nil
}

// Me returns the user a user access token belongs to.
func (c *Client) Me(ctx context.Context, userToken string) (Me, error) {
	var out struct {
		UnionID string `json:"unionId"`
		Nick    string `json:"nick"`
		Mobile  string `json:"mobile"`
	}
	r := request{api: "/v1.0/contact/users/me", method: http.MethodGet, auth: authUserToken, userToken: userToken}
	if err := c.do(ctx, r, &out); err != nil {
		return Me{}, fmt.Errorf("get signed-in user: %w", err)
	}
	return Me{UnionID: out.UnionID, Nick: out.Nick, Mobile: out.Mobile}, nil
}

// Departments returns the direct sub-departments of parentID (1 is the root).
func (c *Client) Departments(ctx context.Context, parentID int64) ([]Department, error) {
	var out struct {
		Result []struct {
			DeptID   int64  `json:"dept_id"`
			ParentID int64  `json:"parent_id"`
			Name     string `json:"name"`
		} `json:"result"`
	}
	body := map[string]any{"dept_id": parentID, "language": "zh_CN"}
	if err := c.oapi(ctx, "/topapi/v2/department/listsub", body, &out); err != nil {
		return nil, fmt.Errorf("list departments under %d: %w", parentID, err)
	}
	ds := make([]Department, 0, len(out.Result))
	for _, d := range out.Result {
		ds = append(ds, Department{ID: d.DeptID, ParentID: d.ParentID, Name: d.Name})
	}
	return ds, nil
}

// DepartmentUsers returns every user of deptID itself (not of its
// sub-departments), reading DingTalk's pages of 100.
func (c *Client) DepartmentUsers(ctx context.Context, deptID int64) ([]User, error) {
	var users []User
	cursor := int64(0)
	for page := 0; ; page++ {
		var out struct {
			Result struct {
				HasMore    bool      `json:"has_more"`
				NextCursor int64     `json:"next_cursor"`
				List       []apiUser `json:"list"`
			} `json:"result"`
		}
		body := map[string]any{"dept_id": deptID, "cursor": cursor, "size": 100, "order_field": "modify_desc",
			"contain_access_limit": false, "language": "zh_CN"}
		if err := c.oapi(ctx, "/topapi/v2/user/list", body, &out); err != nil {
			return users, fmt.Errorf("list users of department %d (page %d): %w", deptID, page+1, err)
		}
		for _, u := range out.Result.List {
			users = append(users, u.user())
		}
		if !out.Result.HasMore {
			return users, nil
		}
		// A cursor that does not move would loop for ever.
		if out.Result.NextCursor <= cursor {
			return users, fmt.Errorf("list users of department %d: cursor did not advance from %d", deptID, cursor)
		}
		cursor = out.Result.NextCursor
	}
}
