package main

import (
	"context"
	"errors"

	"hehuo/internal/config"
)

// usersCmd syncs users from DingTalk departments (owned by the sign-in work).
func usersCmd(ctx context.Context, cfg config.Config, args []string) error {
	return errors.New("hehuo users sync: not built yet")
}
