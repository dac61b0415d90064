package main

import (
	"context"
	"errors"

	"hehuo/internal/config"
)

// outboxCmd runs the notice outbox dispatcher alone (owned by the outbox work).
func outboxCmd(ctx context.Context, cfg config.Config, args []string) error {
	return errors.New("hehuo outbox dispatch: not built yet")
}
