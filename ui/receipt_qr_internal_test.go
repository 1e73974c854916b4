package ui

import (
	"bytes"
	"image/png"
	"strings"
	"testing"

	"github.com/skip2/go-qrcode"
)

// BenchmarkReceiptQR: the receipt's QR code as the SVG path the kiosk
// sends, against the PNG it sent before (fastest deflate), in one run.
//
//	go test ./ui -run '^$' -bench ReceiptQR -benchmem
func BenchmarkReceiptQR(b *testing.B) {
	token := "CRSMTKPUEVFCOH2ETQKY2WXVRIIDKJZ6GWIWSB5NM"
	b.Run("png", func(b *testing.B) {
		for b.Loop() {
			q, err := qrcode.New(token, qrcode.Medium)
			if err != nil {
				b.Fatal(err)
			}
			var buf bytes.Buffer
			if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, q.Image(-5)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("svg", func(b *testing.B) {
		for b.Loop() {
			q, err := qrcode.New(token, qrcode.Medium)
			if err != nil {
				b.Fatal(err)
			}
			if u := qrSVG(q); !strings.HasPrefix(string(u), "data:image/svg+xml;base64,") {
				b.Fatal(u)
			}
		}
	})
}
