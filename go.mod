module gridbox

go 1.26.8

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/mozillazg/go-pinyin v0.21.0
)
