// Command gridbox runs a gridbox node (village box, town node or city node)
// and its maintenance commands. Run `gridbox help` for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// usageError is a bad command line: it is printed with the command's usage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

var commands = []struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout io.Writer) error
}{
	{"init", "create a node: data folder, key pair, database, admin account", runInit},
	{"serve", "run the node (web pages, API, printing, replication)", runServe},
	{"demo", "create a demo village box with realistic fictional data", runDemo},
	{"replication", "show the node key; configure replication (bind, parent, cluster keys)", runReplication},
	{"enrol", "admit a child node by its key (on the parent)", runEnrol},
	{"passwd", "give an account (e.g. admin) a new one-time password; ends its sessions and tokens", runPasswd},
	{"unlock", "lift login locks (one account, or all)", runUnlock},
	{"verify", "check every feed and refold the views; non-zero on the first problem", runVerify},
	{"reindex", "rebuild the views from the feeds", runReindex},
	{"backup", "write a consistent copy of the node while it runs", runBackup},
	{"restore", "restore a node from a backup file", runRestore},
	{"feed", "stream the node's ledger, de-identified, into PostgreSQL (one-shot or --follow)", runFeed},
	{"kiosk", "run the screen's browser and restart it if it dies or hangs (the kiosk unit)", runKiosk},
	{"upgrade", "install a signed release, restart, roll back if not healthy in time", runUpgrade},
	{"release", "sign a release file with the county's release key (at the county)", runRelease},
	{"release-key", "make the county's release key pair (once, at the county)", runReleaseKey},
	{"version", "print the version", runVersion},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "gridbox:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout)
		if len(args) == 0 {
			return usageError{"no command given"}
		}
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout)
		}
	}
	printUsage(os.Stderr)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: gridbox COMMAND [flags]   (gridbox COMMAND --help for its flags)")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: gridbox %s %s\n\nflags:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and checks that the required flags were given.
func parse(fs *flag.FlagSet, args []string, required ...string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError{fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, r := range required {
		if !set[r] || fs.Lookup(r).Value.String() == "" {
			fs.Usage()
			return usageError{fmt.Sprintf("%s: --%s is required", fs.Name(), r)}
		}
	}
	return nil
}

var version = "dev"

func runVersion(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("version", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "gridbox", version)
	return nil
}
