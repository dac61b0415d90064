package main

import (
	"context"
	"errors"

	"hehuo/internal/config"
)

// dtsimCmd runs the DingTalk simulator as a process (owned by the simulator work).
func dtsimCmd(ctx context.Context, cfg config.Config, args []string) error {
	return errors.New("hehuo dtsim: not built yet")
}
