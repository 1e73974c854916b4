// Command fontgen extracts face 0 of WenQuanYi Micro Hei's .ttc into
// print/font/wqy-microhei.ttf, which is committed and embedded.
//
//	go run ./print/fontgen [-in /usr/share/fonts/truetype/wqy/wqy-microhei.ttc] [-out print/font/wqy-microhei.ttf]
package main

import (
	"flag"
	"log"
	"os"

	"gridbox/print/internal/ttc"
)

func main() {
	in := flag.String("in", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "TrueType collection to read")
	out := flag.String("out", "print/font/wqy-microhei.ttf", "TrueType file to write")
	face := flag.Int("face", 0, "face number in the collection")
	flag.Parse()
	data, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	ttf, err := ttc.Extract(data, *face)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, ttf, 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s (%d bytes)", *out, len(ttf))
}
