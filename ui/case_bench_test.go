package ui_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"gridbox/appliance/voicetest"
)

// BenchmarkKioskReportHTTP: a kiosk report posted to a real server whose
// store syncs every commit; the time is what the client waits on loopback
// (server time plus a little), so p99 bounds the server's p99.
func BenchmarkKioskReportHTTP(b *testing.B) {
	srv := mustCaseServer(b)
	br := newBrowser(b, srv.URL)
	form := url.Values{"description": {"村东头路灯坏了一个星期"}, "group": {"410184104201-02"}, "name": {"王秀英"}, "phone": {"13812345678"}}
	br.csrf()
	var times []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if status, _ := br.post("/report/public_affairs", form); status != 200 {
			b.Fatalf("status %d", status)
		}
		times = append(times, time.Since(t0))
	}
	reportPercentiles(b, times)
}

// BenchmarkKioskReportHandler: the same request handled in process
// (fiber's app.Test, no sockets): the server's own time for a report.
func BenchmarkKioskReportHandler(b *testing.B) {
	srv := mustCaseServer(b)
	// A signed CSRF token, as the report form's page gives it.
	res, err := srv.Server.App().Test(httptest.NewRequest("GET", "/report/public_affairs", nil), -1)
	if err != nil {
		b.Fatal(err)
	}
	var csrf string
	for _, ck := range res.Cookies() {
		if ck.Name == "gb_csrf" {
			csrf = ck.Value
		}
	}
	body := url.Values{"description": {"村东头路灯坏了一个星期"}, "group": {"410184104201-02"}, "_csrf": {csrf}}.Encode()
	var times []time.Duration
	for b.Loop() {
		req := httptest.NewRequest("POST", "/report/public_affairs", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", "gb_csrf="+csrf)
		t0 := time.Now()
		res, err := srv.Server.App().Test(req, -1)
		times = append(times, time.Since(t0))
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("status %v %v", res, err)
		}
	}
	reportPercentiles(b, times)
}

// BenchmarkKioskVoiceReport: a kiosk report with a 60-second voice message
// (24 kbit/s, as the kiosk records: about 180 KB), a multipart form posted
// to a real server whose store syncs every commit; p99 is what the client
// waits on loopback, so it bounds the server's p99.
func BenchmarkKioskVoiceReport(b *testing.B) {
	srv := mustCaseServer(b)
	br := newBrowser(b, srv.URL)
	form, ctype, voiceBytes := voiceReportForm(br.csrf())
	var times []time.Duration
	for b.Loop() {
		req, _ := http.NewRequest("POST", srv.URL+"/report/public_affairs", bytes.NewReader(form))
		req.Header.Set("Content-Type", ctype)
		t0 := time.Now()
		res, err := br.c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		times = append(times, time.Since(t0))
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
	b.ReportMetric(float64(voiceBytes)/1000, "voice-KB")
	reportPercentiles(b, times)
}

// BenchmarkKioskVoiceReportHandler: the same report handled in process
// (fiber's app.Test, no sockets): the server's own time.
func BenchmarkKioskVoiceReportHandler(b *testing.B) {
	srv := mustCaseServer(b)
	const csrf = "0123456789abcdefghij0123"
	form, ctype, _ := voiceReportForm(csrf)
	var times []time.Duration
	for b.Loop() {
		req := httptest.NewRequest("POST", "/report/public_affairs", bytes.NewReader(form))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Cookie", "gb_csrf="+csrf)
		t0 := time.Now()
		res, err := srv.Server.App().Test(req, -1)
		times = append(times, time.Since(t0))
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("status %v %v", res, err)
		}
	}
	reportPercentiles(b, times)
}

// voiceReportForm is the kiosk's voice report of a minute (24 kbit/s, as
// the kiosk records) as a multipart form: body, content type, voice bytes.
func voiceReportForm(csrf string) ([]byte, string, int) {
	voice := voicetest.WebM(60*time.Second, 24000, 1)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("_csrf", csrf)
	w.WriteField("way", "voice")
	w.WriteField("group", "410184104201-02")
	fw, _ := w.CreateFormFile("voice", "voice.webm")
	fw.Write(voice)
	w.Close()
	return body.Bytes(), w.FormDataContentType(), len(voice)
}

// reportPercentiles reports the median and the 99th percentile of times.
func reportPercentiles(b *testing.B, times []time.Duration) {
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
}
