package appliance_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"runtime"
	"strings"
	"testing"

	"gridbox/appliance"
)

// bombPNG is an RGBA PNG (16 or 8 bits a channel) whose header claims w×h:
// small on the wire, w·h·8 (or 4) bytes once decoded.
func bombPNG(t *testing.T, w, h uint32, deep bool) []byte {
	t.Helper()
	var img image.Image = image.NewNRGBA(image.Rect(0, 0, 2, 2))
	if deep {
		img = image.NewNRGBA64(image.Rect(0, 0, 2, 2))
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	// IHDR follows the 8-byte signature: length, type, width, height, …, CRC.
	ihdr := data[8+8 : 8+8+13]
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	binary.BigEndian.PutUint32(data[8+8+13:], crc32.ChecksumIEEE(data[8+4:8+8+13]))
	return data
}

func TestPreparePhotoBounds(t *testing.T) {
	t.Run("ErrDecodeBudget", func(t *testing.T) {
		// Under the pixel cap (79 MP < 80 MP before) but 630 MB once decoded.
		data := bombPNG(t, 8900, 8900, true)
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		_, _, err := appliance.PreparePhoto(data)
		runtime.ReadMemStats(&m1)
		if appliance.ErrorField(err) != "photos" || !strings.Contains(appliance.ErrorMessage(err), "8900×8900") {
			t.Fatalf("err = %v, want a photos field error naming the size", err)
		}
		if grew := m1.TotalAlloc - m0.TotalAlloc; grew > 8<<20 {
			t.Fatalf("refusing allocated %d bytes: it decoded", grew)
		}
	})
	t.Run("ErrBudgetByDepth", func(t *testing.T) {
		// 25 MP at 16 bits a channel are over the budget; at 8 bits they
		// are decoded (and found broken, as these headers lie).
		if _, _, err := appliance.PreparePhoto(bombPNG(t, 5000, 5000, true)); !strings.Contains(appliance.ErrorMessage(err), "5000×5000") {
			t.Fatalf("16-bit 5000×5000: err = %v, want refused by size", err)
		}
		if _, _, err := appliance.PreparePhoto(bombPNG(t, 5000, 5000, false)); !strings.Contains(appliance.ErrorMessage(err), "损坏") {
			t.Fatalf("8-bit 5000×5000: err = %v, want decoded and found broken", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		// A 12-megapixel phone photo goes in, scaled down.
		img := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
		for i := range img.Y {
			img.Y[i] = byte(i)
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
			t.Fatal(err)
		}
		out, sum, err := appliance.PreparePhoto(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(out))
		if err != nil || cfg.Width != appliance.MaxPhotoSide || cfg.Height != 1200 || len(sum) != 64 {
			t.Fatalf("stored %dx%d %v sum %q", cfg.Width, cfg.Height, err, sum)
		}
	})
}
