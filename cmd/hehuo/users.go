package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"

	"hehuo/internal/audit"
	"hehuo/internal/config"
	"hehuo/internal/directory"
)

// usersCmd runs `hehuo users sync`: one sync from the DingTalk address book,
// printed as its JSON report. The audit log names the system as the actor.
func usersCmd(ctx context.Context, cfg config.Config, args []string) error {
	if len(args) != 1 || args[0] != "sync" {
		return errors.New("usage: hehuo users sync")
	}
	if cfg.DingTalk.AppKey == "" {
		return errors.New("hehuo users sync: no DingTalk app configured (set HEHUO_DINGTALK_APP_KEY, HEHUO_DINGTALK_APP_SECRET and HEHUO_DINGTALK_CORP_ID)")
	}
	a, err := open(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer a.close()
	rep, err := directory.NewService(a.db, a.deps.DingTalk).Sync(ctx, audit.System)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
