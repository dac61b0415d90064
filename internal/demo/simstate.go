package demo

import (
	"context"
	"fmt"

	"hehuo/internal/db"
)

// SimState returns the DingTalk simulator's state saved by SaveSimState, or
// nil when none was saved yet.
func SimState(ctx context.Context, d *db.DB) ([]byte, error) {
	var state []byte
	err := d.GetContext(ctx, &state, `SELECT state FROM demo_sim_state WHERE id = 1`)
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("demo simulator state: %w", err)
	}
	return state, nil
}

// SaveSimState keeps the simulator's state for the next start of the demo.
func SaveSimState(ctx context.Context, d *db.DB, state []byte) error {
	_, err := d.ExecContext(ctx, `INSERT INTO demo_sim_state (id, state) VALUES (1, $1)
		ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`, state)
	if err != nil {
		return fmt.Errorf("save demo simulator state: %w", err)
	}
	return nil
}
