package db

import (
	"context"
	"fmt"
	"io"
	"log"

	"github.com/pressly/goose/v3"

	"hehuo/migrations"
)

func provider(d *DB) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, d.DB.DB, migrations.FS,
		goose.WithLogger(log.New(io.Discard, "", 0)))
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

// MigrateUp applies every pending migration and returns how many ran.
func MigrateUp(ctx context.Context, d *DB) (int, error) {
	p, err := provider(d)
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate up: %w", err)
	}
	return len(res), nil
}

// MigrateDown rolls back the newest migration.
func MigrateDown(ctx context.Context, d *DB) error {
	p, err := provider(d)
	if err != nil {
		return err
	}
	if _, err := p.Down(ctx); err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// MigrationStatus is one line of `hehuo migrate status`.
type MigrationStatus struct {
	Version int64
	Source  string
	Applied bool
}

// MigrateStatus lists every migration and whether it is applied.
func MigrateStatus(ctx context.Context, d *DB) ([]MigrationStatus, error) {
	p, err := provider(d)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationStatus{Version: s.Source.Version, Source: s.Source.Path, Applied: s.State == goose.StateApplied})
	}
	return out, nil
}
