// Package voicetest makes voice messages for tests and benchmarks: WebM
// files with one Opus track as the kiosk's browser records them, of a given
// length and bit rate. The packets are random bytes behind a valid table of
// contents byte, so they are as large and as incompressible as speech at
// that rate; real recordings come from Chromium in the ui browser tests.
package voicetest

import (
	"bytes"
	"math/rand/v2"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
)

// opusHead is the codec private data of a mono 48 kHz Opus track.
var opusHead = []byte{'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, 1, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0}

// WebM returns a recording of length at bitsPerSecond (e.g. 24000), made
// like Chromium's MediaRecorder: 20 ms packets in clusters of about five
// seconds, timecodes in milliseconds. seed makes different recordings.
func WebM(length time.Duration, bitsPerSecond int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	size := max(2, bitsPerSecond/8/50) // bytes per 20 ms packet
	var clusters []webm.Cluster
	for ms := 0; ms < int(length/time.Millisecond); ms += 20 {
		if ms%5000 == 0 {
			clusters = append(clusters, webm.Cluster{Timecode: uint64(ms)})
		}
		cl := &clusters[len(clusters)-1]
		p := make([]byte, size)
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		p[0] = 31 << 3 // CELT fullband, 20 ms, mono, one frame
		cl.SimpleBlock = append(cl.SimpleBlock, ebml.Block{TrackNumber: 1, Timecode: int16(ms - int(cl.Timecode)), Keyframe: true, Data: [][]byte{p}})
	}
	doc := struct {
		Header  webm.EBMLHeader `ebml:"EBML"`
		Segment webm.Segment    `ebml:"Segment"`
	}{
		Header: webm.EBMLHeader{EBMLVersion: 1, EBMLReadVersion: 1, EBMLMaxIDLength: 4, EBMLMaxSizeLength: 8, DocType: "webm", DocTypeVersion: 4, DocTypeReadVersion: 2},
		Segment: webm.Segment{
			Info: webm.Info{TimecodeScale: 1_000_000, MuxingApp: "Chrome", WritingApp: "Chrome"},
			Tracks: webm.Tracks{TrackEntry: []webm.TrackEntry{{TrackNumber: 1, TrackUID: r.Uint64(), CodecID: "A_OPUS", CodecPrivate: opusHead, TrackType: 2,
				Audio: &webm.Audio{SamplingFrequency: 48000, Channels: 1}}}},
			Cluster: clusters,
		},
	}
	var buf bytes.Buffer
	if err := ebml.Marshal(&doc, &buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
