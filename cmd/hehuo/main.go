// Command hehuo is the whole of Hehuo in one binary: the server, migrations,
// the demo, and operator commands.
//
//	hehuo serve [-migrate]        run the HTTP server
//	hehuo migrate up|down|status  manage the database schema
//	hehuo demo                    migrate, load demo data, serve, print URLs and credentials
//	hehuo ledger reconcile        check the ledger; exit 1 on any failure
//	hehuo audit verify            check the audit log's hash chain; exit 1 on any break
//	hehuo dtsim [-addr HOST:PORT] run the DingTalk simulator
//	hehuo users sync              sync users from DingTalk departments
//	hehuo outbox dispatch         run only the notice outbox dispatcher
//	hehuo version                 print the version
//
// Configuration: -config FILE or HEHUO_CONFIG, then HEHUO_* environment variables.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"hehuo/internal/audit"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/ledger"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		var ex exitError
		if errors.As(err, &ex) {
			os.Exit(int(ex))
		}
		fmt.Fprintln(os.Stderr, "hehuo:", err)
		os.Exit(1)
	}
}

// exitError ends the program with a status after the command printed its own report.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

const usage = `usage: hehuo [-config FILE] COMMAND

commands:
  serve [-migrate]        run the HTTP server (-migrate applies pending migrations first)
  migrate up|down|status  manage the database schema
  demo                    migrate, load demo data, serve, and print URLs and credentials
  ledger reconcile        check the ledger; exit status 1 on any failure
  audit verify            check the audit log's hash chain; exit status 1 on any break
  dtsim [-addr HOST:PORT] run the DingTalk simulator (a test double, never production)
  users sync              sync users from DingTalk departments
  outbox dispatch         run only the notice outbox dispatcher
  version                 print the version`

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("hehuo", flag.ContinueOnError)
	configPath := fs.String("config", os.Getenv("HEHUO_CONFIG"), "configuration file (default $HEHUO_CONFIG)")
	fs.Usage = func() { fmt.Fprintln(os.Stderr, usage) }
	if err := fs.Parse(args); err != nil {
		return err
	}
	args = fs.Args()
	if len(args) == 0 {
		fs.Usage()
		return exitError(2)
	}
	cmd, rest := args[0], args[1:]
	if cmd == "version" {
		fmt.Println("hehuo", version)
		return nil
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	switch cmd {
	case "serve":
		return serve(ctx, cfg, rest)
	case "demo":
		cfg.Demo = true
		return demoCmd(ctx, cfg)
	case "migrate":
		return migrate(ctx, cfg, rest)
	case "dtsim":
		return dtsimCmd(ctx, cfg, rest)
	case "users":
		return usersCmd(ctx, cfg, rest)
	case "outbox":
		return outboxCmd(ctx, cfg, rest)
	case "ledger":
		if len(rest) != 1 || rest[0] != "reconcile" {
			return errors.New("usage: hehuo ledger reconcile")
		}
		return check(ctx, cfg, func(d *db.DB) (bool, any, error) {
			rep, err := ledger.Reconcile(ctx, d)
			return rep.OK, rep, err
		})
	case "audit":
		if len(rest) != 1 || rest[0] != "verify" {
			return errors.New("usage: hehuo audit verify")
		}
		return check(ctx, cfg, func(d *db.DB) (bool, any, error) {
			if _, err := audit.Seal(ctx, d); err != nil {
				return false, nil, err
			}
			rep, err := audit.Verify(ctx, d)
			return rep.OK, rep, err
		})
	default:
		fs.Usage()
		return exitError(2)
	}
}

// check runs a consistency check, prints its JSON report and fails when it does not hold.
func check(ctx context.Context, cfg config.Config, f func(*db.DB) (bool, any, error)) error {
	d, err := db.Open(ctx, cfg.Database.URL, 2)
	if err != nil {
		return err
	}
	defer d.Close()
	ok, rep, err := f(d)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.Encode(rep)
	if !ok {
		return exitError(1)
	}
	return nil
}

func migrate(ctx context.Context, cfg config.Config, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: hehuo migrate up|down|status")
	}
	d, err := db.Open(ctx, cfg.Database.URL, 2)
	if err != nil {
		return err
	}
	defer d.Close()
	switch args[0] {
	case "up":
		n, err := db.MigrateUp(ctx, d)
		if err != nil {
			return err
		}
		fmt.Printf("applied %d migration(s)\n", n)
	case "down":
		return db.MigrateDown(ctx, d)
	case "status":
		st, err := db.MigrateStatus(ctx, d)
		if err != nil {
			return err
		}
		for _, s := range st {
			state := "pending"
			if s.Applied {
				state = "applied"
			}
			fmt.Printf("%05d  %-8s %s\n", s.Version, state, s.Source)
		}
	default:
		return errors.New("usage: hehuo migrate up|down|status")
	}
	return nil
}
