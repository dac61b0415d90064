package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"hehuo/internal/audit"
	"hehuo/internal/config"
	"hehuo/internal/demo"
	"hehuo/internal/dtsim"
	"hehuo/internal/notify"
)

// startDemoSim starts the DingTalk simulator for `hehuo demo` on
// cfg.DingTalk.Simulator and points cfg's DingTalk app at it: the demo corp
// and app, with every base URL on the simulator.
func startDemoSim(ctx context.Context, cfg *config.Config) (*dtsim.Sim, string, error) {
	app := dtsim.DemoApp()
	sim := dtsim.New(dtsim.Config{App: app, AppURL: cfg.HTTP.PublicURL})
	url, err := dtsim.ListenAndServe(ctx, cfg.DingTalk.Simulator, sim)
	if err != nil {
		return nil, "", fmt.Errorf("start the DingTalk simulator on %s: %w", cfg.DingTalk.Simulator, err)
	}
	d := &cfg.DingTalk
	d.APIBase, d.OAPIBase, d.LoginBase = url, url, url
	d.CorpID, d.AppKey, d.AppSecret, d.AgentID, d.RobotCode = app.CorpID, app.AppKey, app.AppSecret, app.AgentID, app.RobotCode
	d.Stream = true
	return sim, url, nil
}

// seedDemoSim makes the simulator's corp match the demo data: every Hehuo
// user with a DingTalk userid exists there, and every city company's group
// has a signed robot that Hehuo's 钉钉设置 knows. The simulator forgets
// everything at exit, so this runs at every start; robot tokens and secrets
// are derived from the org unit so the saved settings keep matching.
func seedDemoSim(ctx context.Context, a *app, sim *dtsim.Sim, url string) error {
	var users []struct {
		UserID    string `db:"dingtalk_userid"`
		Name      string `db:"name"`
		Mobile    string `db:"mobile"`
		Title     string `db:"title"`
		JobNumber string `db:"job_number"`
	}
	if err := a.db.SelectContext(ctx, &users, `SELECT dingtalk_userid, name, coalesce(mobile, '') AS mobile,
		coalesce(title, '') AS title, coalesce(job_number, '') AS job_number
		FROM users WHERE dingtalk_userid IS NOT NULL ORDER BY id`); err != nil {
		return fmt.Errorf("read demo users for the simulator: %w", err)
	}
	for _, u := range users {
		sim.AddUser(dtsim.User{UserID: u.UserID, Name: u.Name, Mobile: u.Mobile, Title: u.Title, JobNumber: u.JobNumber})
	}

	units, err := a.deps.Org.Units(ctx)
	if err != nil {
		return err
	}
	kind := map[int64]string{}
	for _, u := range units {
		kind[u.ID] = u.Kind
	}
	robots, err := a.deps.Notify.Robots(ctx)
	if err != nil {
		return err
	}
	has := map[int64]bool{}
	for _, r := range robots {
		has[r.OrgUnitID] = true
	}
	for _, u := range units {
		// City companies get a group; 直属项目公司 below them share it.
		if u.Kind != "city" || (u.ParentID != nil && kind[*u.ParentID] == "city") {
			continue
		}
		sum := sha256.Sum256([]byte(fmt.Sprintf("hehuo-demo-robot-%d", u.ID)))
		token, secret := hex.EncodeToString(sum[:16]), "SEC"+hex.EncodeToString(sum[16:])
		sim.AddRobot(dtsim.Robot{Name: u.Name + "经营会计群机器人", AccessToken: token, Secret: secret, Conversation: u.Name + "经营会计群"})
		if has[u.ID] {
			continue
		}
		id, name, webhook, enabled := u.ID, u.Name+"经营会计群", url+"/robot/send?access_token="+token, true
		if _, err := a.deps.Notify.CreateRobot(ctx, audit.System, notify.RobotInput{
			OrgUnitID: &id, Name: &name, WebhookURL: &webhook, Secret: &secret, Enabled: &enabled,
		}); err != nil {
			return fmt.Errorf("configure the demo robot of %s: %w", u.Name, err)
		}
	}
	return nil
}

// simSaveInterval is how often the demo keeps the simulator's state.
const simSaveInterval = 5 * time.Second

// restoreDemoSim puts back the simulator's state from the last run of this
// demo database, so inboxes, robot messages and approvals still running in
// Hehuo are there after a restart.
func restoreDemoSim(ctx context.Context, a *app, sim *dtsim.Sim) error {
	state, err := demo.SimState(ctx, a.db)
	if err != nil {
		return err
	}
	return sim.Restore(state)
}

// keepDemoSim saves the simulator's state whenever it changed (checked every
// simSaveInterval; an unchanged state writes nothing, so an idle demo stays
// idle) and once more when ctx ends.
func keepDemoSim(ctx context.Context, a *app, sim *dtsim.Sim) {
	var last []byte
	save := func(ctx context.Context) {
		state, err := sim.Snapshot()
		if err != nil || bytes.Equal(state, last) {
			return
		}
		if err := demo.SaveSimState(ctx, a.db, state); err != nil {
			a.log.Warn("demo: the simulator's state was not saved", "err", err)
			return
		}
		last = state
	}
	if state, err := demo.SimState(ctx, a.db); err == nil {
		last = state
	}
	t := time.NewTicker(simSaveInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			save(ctx)
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			save(final)
			cancel()
			return
		}
	}
}
