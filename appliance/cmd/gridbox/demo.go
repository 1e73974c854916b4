package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/appliance/demo"
)

func runDemo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("demo", "--data DIR [--code CODE --name NAME] [--town-data TOWNDIR] [--force]\n       gridbox demo --role town --data TOWNDIR [--code CODE --name NAME] [--force]")
	data := fs.String("data", "", "data folder to create the demo node in")
	role := fs.String("role", appliance.NodeVillage, "village, or town: a demo town for demo villages made with --town-data")
	code := fs.String("code", "", "division code of the demo node (default 410184104201, a town 410184104000)")
	name := fs.String("name", "", "name of the demo node (default 杏花村, a town 龙湖镇)")
	townData := fs.String("town-data", "", "data folder of a demo town (--role town), not running: it handles the village's escalated cases and receives the village's data")
	force := fs.Bool("force", false, "replace a node that already exists in the folder")
	if err := parse(fs, args, "data"); err != nil {
		return err
	}
	start := time.Now()
	switch *role {
	case appliance.NodeTown:
		if *townData != "" {
			return usageError{"demo: --town-data is for a village"}
		}
		if *code != "" && *name == "" {
			*name = "龙湖镇"
		}
		cfg, accounts, err := demo.GenerateTown(ctx, *data, demo.Options{Force: *force, Code: *code, Name: *name})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "demo town %s (%s) created in %s in %s\n", cfg.Node.Name, cfg.Node.Code, *data, time.Since(start).Round(time.Millisecond))
		printDemoAccounts(stdout, accounts)
		return nil
	case appliance.NodeVillage:
	default:
		return usageError{fmt.Sprintf("demo: --role must be village or town, not %q", *role)}
	}
	if *code != "" && *name == "" {
		*name = "杏花村"
	}
	v, accounts, err := demo.Generate(ctx, *data, demo.Options{Force: *force, Code: *code, Name: *name, Town: "龙湖镇", TownDir: *townData})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo village %s (%s) created in %s: %d ledger entries in %s\n",
		v.Config.Node.Name, v.Code, *data, v.Entries, time.Since(start).Round(time.Millisecond))
	printDemoAccounts(stdout, accounts)
	if *townData != "" {
		fmt.Fprintf(stdout, "its data and the town's decisions on it are in the town in %s as well\n", *townData)
		fmt.Fprintln(stdout, "cases waiting at the town (乡镇待受理): receipt code, PIN, the kiosk's progress page")
		for _, r := range v.Waiting {
			fmt.Fprintf(stdout, "  %s  PIN %s  /scan?token=%s\n", r.Code, r.PIN, r.Token)
		}
	}
	return nil
}

func printDemoAccounts(w io.Writer, accounts []bolt.DemoAccount) {
	fmt.Fprintln(w, "demo accounts (demo data only):")
	for _, a := range accounts {
		fmt.Fprintf(w, "  %-10s %-14s password %s\n", a.Username, a.RoleLabel, a.Password)
	}
}
