// Package cli is the salesnav-etl command line: one file per command, the
// configuration declared once (config.go, vars.go), wiring only. The
// command cmd/salesnav-etl runs Main; tests run execute in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"

	"github.com/salesnav-etl/salesnav-etl/internal/secret"
)

// Exit codes.
const (
	ExitOK      = 0 // the run is complete
	ExitFailure = 1 // the run failed: nothing could be loaded, or an error stopped it
	ExitConfig  = 2 // bad configuration or usage; nothing was done
	ExitPartial = 3 // some streams or contracts failed (see the summary); the rest loaded
	// ExitTemporary is EX_TEMPFAIL: the run stopped early for a reason that
	// time cures (API quota spent, data delayed by LinkedIn, a graceful
	// stop, another run holding the output); state is saved; retry later.
	ExitTemporary = 75
)

const exitCodesHelp = `Exit codes:
  0   complete: every stream of every contract is loaded up to the end day
  1   failed: nothing could be loaded, or an error stopped the run
  2   configuration or usage error, naming the variable or flag; nothing done
  3   partial: some streams or contracts failed (see the summary), others loaded
  75  temporary, and nothing failed: the API quota is spent (resets at midnight
      UTC), LinkedIn's data is delayed, the run was stopped (SIGTERM), or
      another run holds the Parquet output (SALESNAV_LOCK_WAIT); state is
      saved: retry later`

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Main runs the command line with the process's arguments, environment and
// signals, and exits with its code. ver and com are the build's version and
// commit (-ldflags "-X main.version=… -X main.commit=…"), "dev" and ""
// when not set.
func Main(ver, com string) {
	version, commit = ver, com
	// The first SIGTERM or SIGINT stops gracefully (no new work, state
	// saved); a second one, or the grace period, cancels what is running.
	stop := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		close(stop)
		<-sigs
		cancel()
	}()
	applyMemoryLimit(os.Getenv(envPrefix + "MEMORY_LIMIT"))
	code := execute(ctx, stop, commandArgs(os.Args), envconfig.OsLookuper(), os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

// commandArgs are the command line's arguments: those after the
// program's name, after "singer" when the program is named tap-salesnav
// (the Singer tap, as Meltano runs it).
func commandArgs(argv []string) []string {
	if len(argv) == 0 {
		return nil
	}
	args := argv[1:]
	name := argv[0][strings.LastIndexAny(argv[0], `/\`)+1:]
	if strings.TrimSuffix(name, ".exe") == singerTap {
		return append([]string{"singer"}, args...)
	}
	return args
}

// execute runs the CLI and returns the exit code. Closing stop asks for a
// graceful stop; cancelling ctx abandons the work.
//
// Every byte written to stdout and stderr goes through a mask of the
// environment's secrets (secretsOf), whatever wrote it: our messages, a
// library's error text, a panic.
func execute(ctx context.Context, stop <-chan struct{}, args []string, lookup envconfig.Lookuper, stdout, stderr io.Writer) (code int) {
	if stop == nil {
		stop = make(chan struct{})
	}
	secrets := secretsOf(lookup)
	// auth login --k8s-secret writes its manifest, the one output meant
	// to hold the new tokens, to stdout itself.
	rawStdout := stdout
	stdout, stderr = secrets.Writer(stdout), secrets.Writer(stderr)
	defer recoverMasked(secrets, stderr, &code)
	root := newRootCmd(lookup, stop, stdout, stderr, secrets)
	root.AddCommand(newAuthCmd(lookup, stop, secrets, rawStdout, stdout, stderr))
	documentVariables(root)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "salesnav-etl:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		return ExitConfig
	}
	// cobra's own flag and argument errors.
	return ExitConfig
}

func newRootCmd(lookup envconfig.Lookuper, stop <-chan struct{}, stdout, stderr io.Writer, secrets *secret.Set) *cobra.Command {
	root := &cobra.Command{
		Use:           "salesnav-etl",
		Short:         "Load LinkedIn Sales Navigator exports into Parquet or ClickHouse, incrementally",
		Long:          "salesnav-etl extracts LinkedIn Sales Navigator data (the seat, activity and\nactivity outcome exports, CRM data validation exports, profile associations\nand contracts), checks it against its schemas and loads it into a\nHive-partitioned Parquet dataset or ClickHouse, picking up where the last run\nended.\n\n" + variablesHelp() + "\n" + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(lookup, stop, stdout, stderr), newFakeAPICmd(stop, stderr), newSchemaCmd(lookup, stdout),
		newStateCmd(lookup, stdout, stderr), newContractsCmd(lookup, stdout, stderr), newTokenCmd(lookup, stdout, stderr),
		newAssociationsCmd(lookup, stdout, stderr), newVersionCmd(stdout), newConfigCmd(lookup, stdout, stderr),
		newSingerCmd(lookup, stop, stdout, stderr, secrets))
	// The Airbyte commands, under airbyte and, hidden, at the top, where
	// the platform runs them (the image's entrypoint is the binary).
	ab := airbyteCmds{lookup: lookup, stop: stop, stdout: stdout, stderr: stderr, secrets: secrets}
	root.AddCommand(newAirbyteCmd(ab))
	root.AddCommand(ab.commands(true)...)
	return root
}

// documentVariables adds the SALESNAV_* variables, with their defaults,
// and the exit codes to the help of every command that reads them; the
// Singer and Airbyte commands are configured by a JSON file instead.
func documentVariables(root *cobra.Command) {
	var document func(c *cobra.Command)
	document = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			document(sub)
		}
		switch c.Name() {
		case "fake-api", "version", "help", "completion":
			return
		}
		if c.Name() == "singer" || c.Hidden || (c.HasParent() && c.Parent().Name() == "airbyte") {
			// Configured by a JSON file, not the variables.
			return
		}
		if !strings.Contains(c.Long, "Configuration (environment") && c.Runnable() {
			long := c.Long
			if long == "" {
				long = c.Short + "."
			}
			c.Long = long + "\n\n" + variablesHelp() + "\n" + exitCodesHelp
		}
	}
	document(root)
}
