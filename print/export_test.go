package print

// FullFontRedraws exposes how many documents needed the whole font.
func FullFontRedraws() int64 { return fullFontRedraws.Load() }

// OnQR sets a function told where each QR code of every rendered document
// is drawn (page, top-left corner and side in mm); nil stops it.
func OnQR(f func(page int, x, y, size float64)) { qrDrawn = f }
