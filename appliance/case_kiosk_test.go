package appliance_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/voicetest"
)

// A callback request stays in the queue until the reporter is reached or
// the number proves wrong; every try is counted, by any level.
func TestCaseCallback(t *testing.T) {
	V := appliance.NodeVillage
	r := reg(appliance.CaseLevelVillage)
	r.Callback, r.Source = true, appliance.SourceKiosk
	c := run(t, []appliance.CaseStep{r}, []string{V})
	if c.Callback != appliance.CallbackWanted {
		t.Fatalf("callback = %q, want wanted", c.Callback)
	}
	c = run(t, []appliance.CaseStep{r, step("callback", appliance.CaseLevelVillage, nil)}, []string{V, V})
	if c.Callback != appliance.CallbackWanted || c.CallbackTries != 1 || c.CallbackOutcome != appliance.CallbackNoAnswer || c.Status != appliance.StatusPending {
		t.Fatalf("after no answer: %+v", c)
	}
	reached := step("callback", appliance.CaseLevelVillage, func(s *appliance.CaseStep) { s.Outcome = appliance.CallbackReached })
	if _, err := appliance.NextCase(c, reached, at); appliance.ErrorField(err) != "text" {
		t.Fatalf("reached without what was said: %v", err)
	}
	reached.Text = "路灯在村东头第三根电线杆"
	c = run(t, []appliance.CaseStep{r, step("callback", appliance.CaseLevelVillage, nil), reached}, []string{V, V, V})
	if c.Callback != appliance.CallbackDone || c.CallbackTries != 2 || c.Status != appliance.StatusPending {
		t.Fatalf("after reached: %+v", c)
	}
	p := c.Progress("公共事务")
	if got := p.Steps[len(p.Steps)-1].Label; got != "值班人员已回电联系您" {
		t.Fatalf("public label %q", got)
	}
	if strings.Contains(strings.Join(stepLabels(p), " "), "第三根") {
		t.Fatal("the public progress shows what was said on the phone")
	}
	if _, err := appliance.NextCase(c, step("callback", appliance.CaseLevelVillage, func(s *appliance.CaseStep) { s.Outcome = "maybe" }), at); appliance.ErrorField(err) != "outcome" {
		t.Fatalf("unknown outcome: %v", err)
	}
}

func stepLabels(p appliance.CaseProgress) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.Label)
	}
	return out
}

// Classifying sets the category; with a group the case goes to that
// group's grid leader; above the village it is refused.
func TestCaseClassify(t *testing.T) {
	V, T := appliance.NodeVillage, appliance.NodeTown
	r := reg(appliance.CaseLevelVillage)
	r.Category = appliance.CategoryOther
	cl := step("classify", appliance.CaseLevelVillage, func(s *appliance.CaseStep) { s.Group, s.Due = group, "2026-11-06" })
	c := run(t, []appliance.CaseStep{r, cl}, []string{V, V})
	if c.Category != "livelihood" || c.Group != group || c.Level != appliance.CaseLevelGroup || c.Status != appliance.StatusPending || c.Due != "2026-11-06" {
		t.Fatalf("classified: %+v", c)
	}
	c = run(t, []appliance.CaseStep{r, step("classify", appliance.CaseLevelVillage, nil)}, []string{V, V})
	if c.Category != "livelihood" || c.Level != appliance.CaseLevelVillage || c.Group != "" {
		t.Fatalf("classified without group: %+v", c)
	}
	other := step("classify", appliance.CaseLevelVillage, func(s *appliance.CaseStep) { s.Group = "410184104202-01" })
	if _, err := appliance.NextCase(run(t, []appliance.CaseStep{r}, []string{V}), other, at); appliance.ErrorField(err) != "group" {
		t.Fatalf("another village's group: %v", err)
	}
	up := run(t, []appliance.CaseStep{r, step("escalate", appliance.CaseLevelVillage, nil)}, []string{V, V})
	m := at
	m.NodeRole = T
	if _, err := appliance.NextCase(up, step("classify", appliance.CaseLevelTown, nil), m); err == nil {
		t.Fatal("the town changed a case's category")
	}
	for _, a := range appliance.CaseActionsAllowed(up, appliance.CaseLevelTown) {
		if a == appliance.CaseClassify {
			t.Fatal("classify offered at the town")
		}
	}
}

func TestPrepareVoice(t *testing.T) {
	real, err := os.ReadFile(filepath.Join("testdata", "chromium-3s.webm"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		in   []byte
		want time.Duration
	}{
		{"Chromium", real, 2950 * time.Millisecond}, // recorded by Chromium's MediaRecorder with a fake microphone
		{"Synthetic", voicetest.WebM(3*time.Second, 24000, 1), 3 * time.Second},
		{"Sixty", voicetest.WebM(60*time.Second, 24000, 2), 60 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, sum, d, err := appliance.PrepareVoice(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if d < tt.want-100*time.Millisecond || d > tt.want+100*time.Millisecond {
				t.Fatalf("length %s, want %s", d, tt.want)
			}
			if !appliance.IsVoice(out) || !appliance.IsPhotoSum(sum) {
				t.Fatalf("stored form: voice %v, sum %q", appliance.IsVoice(out), sum)
			}
			if bytes.Contains(out, []byte("Chrome")) {
				t.Fatal("the recorder's name is kept")
			}
			again, sum2, _, err := appliance.PrepareVoice(out)
			if err != nil || !bytes.Equal(again, out) || sum2 != sum {
				t.Fatalf("not idempotent: %v", err)
			}
			if err := appliance.CheckVoice(sum, out); err != nil {
				t.Fatal(err)
			}
			if err := appliance.CheckVoice(sum, tt.in); err == nil && !bytes.Equal(out, tt.in) {
				t.Fatal("CheckVoice took bytes that do not match the address")
			}
		})
	}
	jpeg := mustJPEG(t)
	if sum := sha256Hex(jpeg); appliance.CheckVoice(sum, jpeg) == nil {
		t.Fatal("CheckVoice took a photo")
	}
	for _, tt := range []struct {
		name string
		in   []byte
		msg  string
	}{
		{"Empty", nil, "空"},
		{"TooBig", append(bytes.Clone(real), make([]byte, appliance.MaxVoiceBytes)...), "太大"},
		{"Photo", jpeg, "格式不对"},
		{"Truncated", real[:len(real)/2], "损坏"},
		{"TooLong", voicetest.WebM(65*time.Second, 24000, 3), "60秒"},
		{"TooShort", voicetest.WebM(400*time.Millisecond, 24000, 4), "太短"},
	} {
		t.Run("Err"+tt.name, func(t *testing.T) {
			_, _, _, err := appliance.PrepareVoice(tt.in)
			if appliance.ErrorField(err) != "voice" || !strings.Contains(appliance.ErrorMessage(err), tt.msg) {
				t.Fatalf("err = %v, want a voice error with %q", err, tt.msg)
			}
		})
	}
	// Hostile bytes: mutations of a real recording never panic, and what
	// is accepted comes out in the stored form.
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		b := bytes.Clone(real)
		for j := 0; j < 1+r.IntN(8); j++ {
			b[4+r.IntN(len(b)-4)] = byte(r.Uint32())
		}
		if out, sum, _, err := appliance.PrepareVoice(b); err == nil {
			if err := appliance.CheckVoice(sum, out); err != nil {
				t.Fatalf("mutation %d accepted but its stored form fails: %v", i, err)
			}
		} else if appliance.ErrorCode(err) != appliance.EINVALID {
			t.Fatalf("mutation %d: %v", i, err)
		}
	}
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func mustJPEG(t *testing.T) []byte {
	t.Helper()
	// A 1×1 PNG goes through PreparePhoto, which makes a JPEG.
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")
	out, _, err := appliance.PreparePhoto(png)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An older configuration file (categories without plain words, phrases or
// a triage category) gets them from the defaults; a triage category may
// not escalate by itself; phrases are checked.
func TestKioskConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "gridbox.toml")
		if err := os.WriteFile(p, []byte("[node]\nrole = \"village\"\ncode = \"410184104201\"\nname = \"杏花村\"\n"+s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg, err := appliance.LoadConfig(write(`
[[cases.categories]]
key = "livelihood"
name = "民生服务"
icon = "heart"

[[cases.categories]]
key = "roads"
name = "道路交通"
icon = "tree"
phrases = ["路坏了"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cfg.Cases.Categories); n != 3 {
		t.Fatalf("%d categories: %+v", n, cfg.Cases.Categories)
	}
	l, _ := cfg.Category("livelihood")
	if l.Plain != "低保、看病、养老" || len(l.Phrases) == 0 || l.AutoEscalate {
		t.Fatalf("livelihood filled: %+v", l)
	}
	if r, _ := cfg.Category("roads"); r.Plain != "" || len(r.Phrases) != 1 {
		t.Fatalf("own category changed: %+v", r)
	}
	if !cfg.TriageCategory(appliance.CategoryOther) {
		t.Fatal("no 其他 / 说不清")
	}
	if _, err := appliance.LoadConfig(write("[[cases.categories]]\nkey = \"x\"\nname = \"其他\"\ntriage = true\nauto_escalate = true\n")); err == nil || !strings.Contains(err.Error(), "triage") {
		t.Fatalf("triage with auto_escalate: %v", err)
	}
	if _, err := appliance.LoadConfig(write("[[cases.categories]]\nkey = \"x\"\nname = \"其他\"\nphrases = [\"a\", \"a\"]\n")); err == nil {
		t.Fatal("repeated phrase accepted")
	}
	if _, err := appliance.LoadConfig(write("[kiosk]\nidle_warning = \"-5s\"\n")); err == nil {
		t.Fatal("a negative warning time accepted")
	}
	for _, tt := range []struct {
		in   string
		n    int
		fail bool
	}{
		{"路灯坏了\n\n  停水了  \r\n", 2, false},
		{strings.Repeat("长", appliance.MaxPhraseRunes+1), 0, true},
		{strings.Repeat("第x条\n", 3), 0, true},
	} {
		ps, err := appliance.ParsePhrases(tt.in)
		if (err != nil) != tt.fail || (!tt.fail && len(ps) != tt.n) {
			t.Errorf("ParsePhrases(%q) = %q, %v", tt.in, ps, err)
		}
	}
}

// BenchmarkPrepareVoice: checking and rewriting a 60-second recording.
func BenchmarkPrepareVoice(b *testing.B) {
	v := voicetest.WebM(60*time.Second, 24000, 1)
	b.SetBytes(int64(len(v)))
	for b.Loop() {
		if _, _, _, err := appliance.PrepareVoice(v); err != nil {
			b.Fatal(err)
		}
	}
}
