// Command badrelease is a broken release for the upgrade test: it starts
// and says its version, as the upgrade's check asks, but cannot serve.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println("gridbox v3-bad")
		return
	}
	fmt.Fprintln(os.Stderr, "gridbox: open store: views of an unknown format")
	os.Exit(1)
}
