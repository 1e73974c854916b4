package ui_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"gridbox/ui/internal/uitest"
)

// Helpers for the kiosk's browser tests: a touch screen of the kiosk's
// size, taps, and the checks every kiosk page must pass.

// kioskTab opens a browser with the kiosk's screen (touch emulation on).
func kioskTab(t *testing.T, screen uitest.Screen, mic bool) context.Context {
	t.Helper()
	ctx := uitest.BrowserWith(t, uitest.BrowserOptions{Screen: screen, Microphone: mic})
	setScreen(t, ctx, screen)
	return ctx
}

// setScreen sizes the tab like the kiosk's display, with touch input.
func setScreen(t *testing.T, ctx context.Context, screen uitest.Screen) {
	t.Helper()
	orient := chromedp.EmulateLandscape
	if screen.Height > screen.Width {
		orient = chromedp.EmulatePortrait
	}
	do(t, ctx, chromedp.EmulateViewport(int64(screen.Width), int64(screen.Height), orient, chromedp.EmulateTouch))
}

// tap touches the middle of the first element matching sel, as a finger
// would (a touchStart and a touchEnd; the browser makes the click). The
// element is first scrolled into view, as the villager would swipe.
func tap(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(sel)))
	type point struct{ X, Y float64 }
	p, err := chromedp.Run(ctx, chromedp.Evaluate[point](fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		el.scrollIntoView({block: "center", inline: "center"});
		const r = el.getBoundingClientRect();
		return {X: r.left + r.width / 2, Y: r.top + r.height / 2};
	})()`, sel)))
	if err != nil {
		t.Fatalf("tap %s: %v", sel, err)
	}
	do(t, ctx, chromedp.TapXY(p.X, p.Y))
}

// tapText taps the first element matching sel whose text is text.
func tapText(t *testing.T, ctx context.Context, sel, text string) {
	t.Helper()
	waitJS(t, ctx, sel+" "+text, fmt.Sprintf(`[...document.querySelectorAll(%q)].some(e => e.textContent.trim() === %q)`, sel, text), 10*time.Second)
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const el = [...document.querySelectorAll(%q)].find(e => e.textContent.trim() === %q);
		if (!el) return false;
		document.querySelectorAll("[data-tap-target]").forEach(e => e.removeAttribute("data-tap-target"));
		el.setAttribute("data-tap-target", "");
		return true;
	})()`, sel, text)))
	if err != nil || !ok {
		t.Fatalf("no %s with text %q (%v)", sel, text, err)
	}
	tap(t, ctx, "[data-tap-target]")
}

// waitJS polls a JavaScript condition until it holds.
func waitJS(t *testing.T, ctx context.Context, what, cond string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", d, what)
}

// domCheckJS lists what breaks the kiosk's rules on the page as shown:
// visible text under 20 px, touch targets under 48 × 48 px or closer than
// 8 px to another, and (when primary is set) a primary action that is not
// fully on the first screen.
const domCheckJS = `((primary) => {
	const out = [];
	const shown = el => {
		for (let e = el; e; e = e.parentElement) {
			const s = getComputedStyle(e);
			if (s.display === "none" || s.visibility === "hidden" || s.opacity === "0") return false;
		}
		const r = el.getBoundingClientRect();
		return r.width > 0 && r.height > 0;
	};
	const name = el => "<" + el.tagName.toLowerCase() + (el.className ? " class=" + el.className : "") + ">" + (el.textContent || el.value || "").trim().slice(0, 16);
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n; (n = walker.nextNode());) {
		const el = n.parentElement;
		if (!n.textContent.trim() || !el || ["SCRIPT", "STYLE", "NOSCRIPT"].includes(el.tagName) || !shown(el)) continue;
		const px = parseFloat(getComputedStyle(el).fontSize);
		if (px < 19.95) out.push("text " + px + "px: " + name(el));
	}
	const targets = [...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]")].filter(shown);
	for (const el of targets) {
		if (["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(el.tagName) && parseFloat(getComputedStyle(el).fontSize) < 19.95) out.push("field text " + getComputedStyle(el).fontSize + ": " + name(el));
	}
	const rects = targets.map(el => el.getBoundingClientRect());
	targets.forEach((el, i) => {
		const r = rects[i];
		if (r.width < 47.5 || r.height < 47.5) out.push("target " + Math.round(r.width) + "x" + Math.round(r.height) + ": " + name(el));
	});
	for (let i = 0; i < targets.length; i++) {
		for (let j = i + 1; j < targets.length; j++) {
			const a = targets[i], b = targets[j];
			if (a.contains(b) || b.contains(a) || (a.labels && [...a.labels].some(l => l.contains(b))) || (b.labels && [...b.labels].some(l => l.contains(a)))) continue;
			const p = rects[i], q = rects[j];
			const dx = Math.max(0, Math.max(p.left, q.left) - Math.min(p.right, q.right));
			const dy = Math.max(0, Math.max(p.top, q.top) - Math.min(p.bottom, q.bottom));
			const gap = Math.hypot(dx, dy);
			if (gap < 7.5) out.push("targets " + gap.toFixed(1) + "px apart: " + name(a) + " / " + name(b));
		}
	}
	if (primary) {
		const el = document.querySelector(primary);
		if (!el || !shown(el)) out.push("primary action " + primary + " missing");
		else {
			const r = el.getBoundingClientRect();
			if (r.top < 0 || r.bottom > innerHeight + 0.5 || window.scrollY > 0) out.push("primary action " + primary + " not on the first screen (bottom " + Math.round(r.bottom) + " of " + innerHeight + ")");
		}
	}
	return out;
})`

// axeViolation is one rule axe-core reports broken.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  int    `json:"nodes"`
}

// runAxe runs axe-core on the page and returns the serious and critical
// violations.
func runAxe(t *testing.T, ctx context.Context, script string) []axeViolation {
	t.Helper()
	has, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if !has {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](script+";true")); err != nil {
			t.Fatalf("load axe-core: %v", err)
		}
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe: %v", err)
	}
	return vs
}

// checkKioskPage runs the DOM check and axe-core on the page now shown,
// with the page scrolled to the top. With $GRIDBOX_SCREENSHOTS set it also
// saves a screenshot of it (a second each at these sizes, so not always).
func checkKioskPage(t *testing.T, ctx context.Context, axe, name, primary string) {
	t.Helper()
	js(t, ctx, `window.scrollTo(0, 0); true`)
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](domCheckJS+fmt.Sprintf("(%q)", primary)))
	if err != nil {
		t.Fatalf("%s: DOM check: %v", name, err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", name, p)
	}
	for _, v := range runAxe(t, ctx, axe) {
		t.Errorf("%s: axe %s (%s, %d nodes): %s", name, v.ID, v.Impact, v.Nodes, v.Help)
	}
	if os.Getenv("GRIDBOX_SCREENSHOTS") != "" {
		uitest.Screenshot(t, ctx, "kiosk-"+name)
	}
}

// currentPath is the path (and query) the tab shows.
func currentPath(t *testing.T, ctx context.Context) string {
	t.Helper()
	p, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// virtualTime lets the page's clock run ms ahead at once (timers fire as
// they would), then pauses it.
func virtualTime(t *testing.T, ctx context.Context, ms float64) {
	t.Helper()
	expired := chromedp.Events(ctx, emulation.VirtualTimeBudgetExpired)
	if _, err := chromedp.Call(ctx, emulation.SetVirtualTimePolicy, emulation.SetVirtualTimePolicyParams{Policy: emulation.VirtualTimePolicyAdvance, Budget: &ms}); err != nil {
		t.Fatal(err)
	}
	for _, err := range expired {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
}

func visible(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && !e.closest("[hidden]") && e.getBoundingClientRect().height > 0; })()`, sel)))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(s), " ")
}

// js runs a script on the page and fails the test if it throws.
func js(t *testing.T, ctx context.Context, script string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](script)); err != nil {
		t.Fatalf("script: %v", err)
	}
}
