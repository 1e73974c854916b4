package print

// FullFontRedraws exposes how many documents needed the whole font.
func FullFontRedraws() int64 { return fullFontRedraws.Load() }
