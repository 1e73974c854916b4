package ui_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// TestBrowserHouseholdSearch logs in as a grid leader in headless Chromium,
// searches by pinyin initials, opens the household, and checks that the
// household and visit pages fit a narrow phone screen.
func TestBrowserHouseholdSearch(t *testing.T) {
	ctx := uitest.Browser(t)
	s := startHHServer(t)
	p := somePerson(t, s.Store, s.Demo.Groups[0].Code)
	initials := appliance.PinyinKeys(p.Person.Name)[1]

	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "leader"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "demo1234"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("ul.counters")),
		chromedp.Navigate(s.URL+"/staff/households"),
		chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), initials),
		chromedp.Click(chromedp.CSS(`form.search button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("ul.results")),
	)
	if err != nil {
		t.Fatal(err)
	}
	results, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("ul.results")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(results, p.Person.Name) {
		t.Fatalf("search %q: %s not in %q", initials, p.Person.Name, results)
	}
	if strings.Contains(results, p.Person.IDNumber()) {
		t.Fatal("results show a full ID number")
	}
	uitest.Screenshot(t, ctx, "households-search")
	// Open the household from the result for this person.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`ul.results a[href="/staff/households/`+p.Household.ID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("ul.members")),
	)
	if err != nil {
		t.Fatal(err)
	}
	h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main h1")))
	if err != nil {
		t.Fatal(err)
	}
	if h1 != p.Person.Name+"户" {
		t.Fatalf("household page h1=%q, want %q", h1, p.Person.Name+"户")
	}
	uitest.Screenshot(t, ctx, "households-show")

	for _, path := range []string{"/staff/households/" + p.Household.ID, "/staff/visits/new?household=" + p.Household.ID, "/staff/households"} {
		err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740), chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if err != nil {
			t.Fatal(err)
		}
		w, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
		if err != nil {
			t.Fatal(err)
		}
		if w > 362 {
			t.Errorf("%s is %dpx wide on a 360px phone", path, w)
		}
	}
	uitest.Screenshot(t, ctx, "households-phone")
}
