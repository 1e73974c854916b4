package appliance

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/jpeg"
	_ "image/png" // PNG uploads
	"net/http"
	"strings"

	"golang.org/x/image/draw"
)

// Photos of cases: JPEG or PNG up to MaxPhotoBytes; stored downscaled to
// at most MaxPhotoSide pixels and re-encoded as JPEG, which drops every
// metadata block (EXIF with GPS position, camera serials).
const (
	MaxPhotoBytes  = 10 << 20
	MaxPhotoSide   = 1600
	maxPhotoPixels = 80_000_000 // a decompression bomb is refused before decoding
)

func newSHA() hash.Hash { return sha256.New() }

// PreparePhoto checks an uploaded photo and returns the bytes to store and
// their content address (sha256 hex).
func PreparePhoto(data []byte) ([]byte, string, error) {
	if len(data) > MaxPhotoBytes {
		return nil, "", FieldError("photos", "照片不能超过10MB")
	}
	if len(data) == 0 {
		return nil, "", FieldError("photos", "照片是空文件")
	}
	switch http.DetectContentType(data) {
	case "image/jpeg", "image/png":
	default:
		return nil, "", FieldError("photos", "只能上传 JPG 或 PNG 格式的照片")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, "", FieldError("photos", "照片文件已损坏，无法读取")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPhotoPixels {
		return nil, "", FieldError("photos", "照片尺寸太大")
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", FieldError("photos", "照片文件已损坏，无法读取")
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > MaxPhotoSide || h > MaxPhotoSide {
		if w >= h {
			w, h = MaxPhotoSide, max(1, h*MaxPhotoSide/b.Dx())
		} else {
			w, h = max(1, w*MaxPhotoSide/b.Dy()), MaxPhotoSide
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	// White under transparent PNG areas, as JPEG has no alpha.
	stddraw.Draw(dst, dst.Bounds(), &image.Uniform{color.White}, image.Point{}, stddraw.Src)
	if w == b.Dx() && h == b.Dy() {
		stddraw.Draw(dst, dst.Bounds(), src, b.Min, stddraw.Over)
	} else {
		draw.BiLinear.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 85}); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(out.Bytes())
	return out.Bytes(), hex.EncodeToString(sum[:]), nil
}

// PhotoRefs returns the content addresses of the photos and voice messages
// an entry refers to: those of a case step, or of the step a case relay
// carries. A node
// that holds the entry fetches them from the peer it came from
// (docs/replication.md, "Photos").
func PhotoRefs(e *Entry) []string {
	var step CaseStep
	switch {
	case e.Kind == KindCaseRelay:
		var r CaseRelay
		if json.Unmarshal(e.Body, &r) != nil {
			return nil
		}
		step = r.Step
	case CaseActionOf(e.Kind) != "":
		if json.Unmarshal(e.Body, &step) != nil {
			return nil
		}
	default:
		return nil
	}
	var out []string
	for _, s := range step.Photos {
		if IsPhotoSum(s) && len(out) < MaxCasePhotos {
			out = append(out, s)
		}
	}
	// Voice messages travel the same way (case_voice.go).
	for i, s := range step.Voice {
		if IsPhotoSum(s) && i < MaxCaseVoices {
			out = append(out, s)
		}
	}
	return out
}

// IsPhotoSum reports whether s has the form of a photo's content address.
func IsPhotoSum(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// CheckPhoto checks photo bytes that came from another node against their
// content address and the form PreparePhoto gives them.
func CheckPhoto(sum string, data []byte) error {
	h := sha256.Sum256(data)
	if hex.EncodeToString(h[:]) != sum {
		return errors.New("photo does not match its content address")
	}
	if len(data) > MaxPhotoBytes || http.DetectContentType(data) != "image/jpeg" {
		return errors.New("photo is not a stored JPEG")
	}
	return nil
}
