package appliance

import (
	"bytes"
	"context"
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
	"time"

	"golang.org/x/image/draw"
	"golang.org/x/sync/semaphore"
)

// Photos of cases: JPEG or PNG up to MaxPhotoBytes; stored downscaled to
// at most MaxPhotoSide pixels and re-encoded as JPEG, which drops every
// metadata block (EXIF with GPS position, camera serials).
const (
	MaxPhotoBytes  = 10 << 20
	MaxPhotoSide   = 1600
	maxPhotoPixels = 50_000_000 // a 50-megapixel phone camera; more is refused before decoding
)

// Decoding is bounded by memory, not only by pixels: a 0.6 MB 16-bit PNG of
// 8900×8900 needs 630 MB once decoded. Each decode reserves what its image
// needs (from the header) out of photoDecodeBudget and waits for it; an
// image that alone needs more is refused.
const photoDecodeBudget = 192 << 20

var photoDecoding = semaphore.NewWeighted(photoDecodeBudget)

// decodeBytes is what decoding an image of cfg holds in memory at most:
// its pixels in the decoder's model plus the downscaled copy.
func decodeBytes(cfg image.Config) int64 {
	per := int64(4)
	switch cfg.ColorModel {
	case color.RGBA64Model, color.NRGBA64Model:
		per = 8
	case color.Gray16Model:
		per = 2
	case color.GrayModel, color.AlphaModel:
		per = 1
	case color.YCbCrModel:
		per = 3 // 4:4:4 at most
	case color.CMYKModel:
		per = 4
	default:
		if _, ok := cfg.ColorModel.(color.Palette); ok {
			per = 1
		}
	}
	return int64(cfg.Width)*int64(cfg.Height)*per + MaxPhotoSide*MaxPhotoSide*4
}

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
	need := decodeBytes(cfg)
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPhotoPixels || need > photoDecodeBudget {
		return nil, "", FieldError("photos", "照片尺寸太大（%d×%d），请用手机相机的普通画质重新拍摄", cfg.Width, cfg.Height)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := photoDecoding.Acquire(ctx, need); err != nil {
		return nil, "", Errorf(EBUSY, "系统正忙，请稍后再上传照片")
	}
	defer photoDecoding.Release(need)
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
// an entry refers to: those of a case step, of the step a case relay
// carries, or of an inspection finding (or its copy down). A node
// that holds the entry fetches them from the peer it came from
// (docs/replication.md, "Photos").
func PhotoRefs(e *Entry) []string {
	var step CaseStep
	switch {
	case e.Kind == KindAssessFinding || e.Kind == KindDownCopy:
		return findingPhotoRefs(e)
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
