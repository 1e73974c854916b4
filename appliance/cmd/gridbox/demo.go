package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"gridbox/appliance/demo"
)

func runDemo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("demo", "--data DIR [--code CODE --name NAME] [--force]")
	data := fs.String("data", "", "data folder to create the demo village in")
	code := fs.String("code", "", "division code of the demo village (default 410184104201)")
	name := fs.String("name", "杏花村", "name of the demo village")
	force := fs.Bool("force", false, "replace a node that already exists in the folder")
	if err := parse(fs, args, "data"); err != nil {
		return err
	}
	start := time.Now()
	v, accounts, err := demo.Generate(ctx, *data, demo.Options{Force: *force, Code: *code, Name: *name, Town: "龙湖镇"})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo village %s (%s) created in %s: %d ledger entries in %s\n",
		v.Config.Node.Name, v.Code, *data, v.Entries, time.Since(start).Round(time.Millisecond))
	fmt.Fprintln(stdout, "demo accounts (demo data only):")
	for _, a := range accounts {
		fmt.Fprintf(stdout, "  %-10s %-14s password %s\n", a.Username, a.RoleLabel, a.Password)
	}
	return nil
}
