package ui_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/chromedp/chromedp"

	"gridbox/ui/internal/uitest"
)

// Helpers for the staff pages' browser tests: a phone and a laptop, and the
// checks every staff page must pass (docs/staff-pages.md).

// The staff's screens: a grid leader's phone and a town operator's laptop.
var (
	Phone  = uitest.Screen{Width: 390, Height: 844, Name: "phone"}
	Laptop = uitest.Screen{Width: 1366, Height: 768, Name: "laptop"}
)

// staffScreen sizes the tab; the phone is a touch screen that applies the
// page's viewport meta, as a phone's browser does.
func staffScreen(t *testing.T, ctx context.Context, screen uitest.Screen) {
	t.Helper()
	if screen == Phone {
		do(t, ctx, chromedp.EmulateViewport(int64(screen.Width), int64(screen.Height), chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
		return
	}
	do(t, ctx, chromedp.EmulateViewport(int64(screen.Width), int64(screen.Height), chromedp.EmulateLandscape))
}

// staffCheckJS lists what breaks the staff pages' rules on the page as
// shown: anything wider than the screen (the page would scroll sideways),
// and on a phone any touch target under 44 × 44 px (a checkbox or radio
// button counts with its label, which takes the tap too), and (when primary
// is set) a primary action that is not on the first screen.
const staffCheckJS = `((phone, primary) => {
	const out = [];
	const shown = el => {
		for (let e = el; e; e = e.parentElement) {
			const s = getComputedStyle(e);
			if (s.display === "none" || s.visibility === "hidden") return false;
		}
		const r = el.getBoundingClientRect();
		return r.width > 0 && r.height > 0;
	};
	const name = el => "<" + el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? "." + el.className.trim().replace(/\s+/g, ".") : "") + ">" + (el.textContent || el.value || el.name || "").trim().slice(0, 16);
	const de = document.documentElement;
	if (de.scrollWidth > innerWidth + 0.5) {
		const wide = [...document.body.querySelectorAll("*")].filter(e => shown(e) && e.getBoundingClientRect().right > innerWidth + 0.5 && !(e.parentElement && e.parentElement.getBoundingClientRect().right > innerWidth + 0.5)).slice(0, 4).map(e => name(e) + " right " + Math.round(e.getBoundingClientRect().right));
		out.push("scrolls sideways: " + de.scrollWidth + " px wide on a " + innerWidth + " px screen: " + wide.join(", "));
	}
	if (phone) {
		const targets = [...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]")].filter(shown);
		for (const el of targets) {
			let r = el.getBoundingClientRect();
			if (el.type === "checkbox" || el.type === "radio") {
				const l = el.closest("label") || (el.labels && el.labels[0]);
				if (l) r = l.getBoundingClientRect();
			}
			if (r.width < 43.5 || r.height < 43.5) out.push("target " + Math.round(r.width) + "x" + Math.round(r.height) + ": " + name(el));
		}
	}
	if (primary) {
		const el = document.querySelector(primary);
		if (!el || !shown(el)) out.push("primary action " + primary + " missing");
		else {
			const r = el.getBoundingClientRect();
			if (r.top < 0 || r.bottom > innerHeight + 0.5) out.push("primary action " + primary + " not on the first screen (bottom " + Math.round(r.bottom) + " of " + innerHeight + ")");
		}
	}
	return out;
})`

// checkStaffPage checks the page now shown, scrolled to the top, at the
// tab's screen size; axe-core runs when axe is given. It returns the
// problems found, each named with name.
func checkStaffPage(t *testing.T, ctx context.Context, screen uitest.Screen, axe, name, primary string) []string {
	t.Helper()
	js(t, ctx, `window.scrollTo(0, 0); true`)
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](staffCheckJS+fmt.Sprintf("(%v, %q)", screen == Phone, primary)))
	if err != nil {
		t.Fatalf("%s: staff check: %v", name, err)
	}
	var out []string
	for _, p := range problems {
		out = append(out, fmt.Sprintf("%s at %s: %s", name, screen.Name, p))
	}
	if axe != "" {
		for _, v := range runAxe(t, ctx, axe) {
			out = append(out, fmt.Sprintf("%s at %s: axe %s (%s, %d nodes): %s", name, screen.Name, v.ID, v.Impact, v.Nodes, v.Help))
		}
	}
	if os.Getenv("GRIDBOX_SCREENSHOTS") != "" {
		uitest.Screenshot(t, ctx, "staff-"+screen.Name+"-"+name)
	}
	return out
}
