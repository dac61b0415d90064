package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"hehuo/internal/config"
	"hehuo/internal/dtsim"
)

// dtsimCmd runs the DingTalk simulator as a process until ctx is done.
//
//	hehuo dtsim [-addr 127.0.0.1:18080] [-users FILE.json] [-app-url URL]
//
// The simulated app is the configured one (HEHUO_DINGTALK_*), or the demo
// app when no AppKey is configured. FILE.json is {"departments":[…],"users":[…]}
// in the control API's shapes, or just a list of users.
func dtsimCmd(ctx context.Context, cfg config.Config, args []string) error {
	fs := flag.NewFlagSet("dtsim", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:18080", "listen address")
	usersFile := fs.String("users", "", "JSON file of users (and departments) to load")
	appURL := fs.String("app-url", cfg.HTTP.PublicURL, "Hehuo's base URL, for the phone panel")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sim := dtsim.New(dtsim.Config{App: simApp(cfg.DingTalk), AppURL: *appURL})
	if *usersFile != "" {
		if err := loadSimUsers(sim, *usersFile); err != nil {
			return err
		}
	}
	u, err := dtsim.ListenAndServe(ctx, *addr, sim)
	if err != nil {
		return err
	}
	a := sim.App()
	fmt.Printf("DingTalk simulator: %s (corp %s, app key %s, agent %s)\n", u, a.CorpID, a.AppKey, a.AgentID)
	fmt.Printf("point Hehuo at it: HEHUO_DINGTALK_API_BASE=%s HEHUO_DINGTALK_OAPI_BASE=%s HEHUO_DINGTALK_LOGIN_BASE=%s\n", u, u, u)
	<-ctx.Done()
	return nil
}

// simApp is the app the simulator plays: the configured one, else the demo app.
func simApp(d config.DingTalk) dtsim.App {
	if d.AppKey == "" {
		return dtsim.DemoApp()
	}
	return dtsim.App{CorpID: d.CorpID, AppKey: d.AppKey, AppSecret: d.AppSecret, AgentID: d.AgentID, RobotCode: d.RobotCode}
}

// loadSimUsers adds the departments and users of a JSON file to sim.
func loadSimUsers(sim *dtsim.Sim, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read simulator users: %w", err)
	}
	var file struct {
		Departments []dtsim.Department `json:"departments"`
		Users       []dtsim.User       `json:"users"`
	}
	if err := json.Unmarshal(b, &file.Users); err != nil {
		if err := json.Unmarshal(b, &file); err != nil {
			return fmt.Errorf("parse simulator users %s: %w", path, err)
		}
	}
	for _, d := range file.Departments {
		sim.AddDepartment(d)
	}
	for _, u := range file.Users {
		sim.AddUser(u)
	}
	return nil
}
