package appliance

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
)

// Voice messages of cases: what the kiosk's browser records (MediaRecorder,
// Opus in WebM), up to MaxVoiceSeconds. Like photos they are stored under
// the SHA-256 of their bytes beside the ledger, never in an entry; the
// register step carries only the address (CaseStep.Voice).
const (
	MaxVoiceBytes   = 512 << 10 // an upload; 60 s at the kiosk's 24 kbit/s is about 190 KB
	MaxVoiceSeconds = 60
	MinVoiceSeconds = 1
	MaxCaseVoices   = 1
	// voiceSlack allows for the recorder stopping a little after the limit.
	voiceSlack = 2 * time.Second
)

// VoiceType is the media type of stored voice messages.
const VoiceType = "audio/webm"

var ebmlMagic = []byte{0x1a, 0x45, 0xdf, 0xa3}

// voiceDoc is a WebM file as ebml-go reads and writes it.
type voiceDoc struct {
	Header  webm.EBMLHeader `ebml:"EBML"`
	Segment webm.Segment    `ebml:"Segment"`
}

// PrepareVoice checks an uploaded voice message and returns the bytes to
// store, their content address (sha256 hex) and the message's length. The
// file must be WebM with one Opus audio track of 1 to MaxVoiceSeconds
// seconds; it is written anew with its duration in the header (so every
// player shows the length and can seek) and without the recorder's
// metadata, track ids or cue points.
func PrepareVoice(data []byte) ([]byte, string, time.Duration, error) {
	if len(data) == 0 {
		return nil, "", 0, FieldError("voice", "录音是空的，请重新录一次")
	}
	if len(data) > MaxVoiceBytes {
		return nil, "", 0, FieldError("voice", "录音文件太大（不能超过%dKB）", MaxVoiceBytes>>10)
	}
	if !bytes.HasPrefix(data, ebmlMagic) {
		return nil, "", 0, FieldError("voice", "录音格式不对（应为 WebM/Opus）")
	}
	var in voiceDoc
	if err := ebml.Unmarshal(bytes.NewReader(data), &in, ebml.WithMaxLeafElementSize(MaxVoiceBytes)); err != nil {
		return nil, "", 0, FieldError("voice", "录音文件已损坏，无法读取")
	}
	out, length, err := cleanVoice(&in)
	if err != nil {
		return nil, "", 0, err
	}
	b, err := writeVoice(out)
	if err != nil {
		return nil, "", 0, err
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:]), length, nil
}

// writeVoice writes a cleaned recording. The clusters, nearly all of the
// file, are written here (ebml-go's reflection took half the time of a
// kiosk report with a minute of voice); the header parts by ebml-go.
func writeVoice(d *voiceDoc) ([]byte, error) {
	var head, segment bytes.Buffer
	if err := ebml.Marshal(&struct {
		Header webm.EBMLHeader `ebml:"EBML"`
	}{d.Header}, &head); err != nil {
		return nil, err
	}
	if err := ebml.Marshal(&struct {
		Info   webm.Info   `ebml:"Info"`
		Tracks webm.Tracks `ebml:"Tracks"`
	}{d.Segment.Info, d.Segment.Tracks}, &segment); err != nil {
		return nil, err
	}
	var cl []byte
	for _, c := range d.Segment.Cluster {
		cl = cl[:0]
		cl = appendUintElement(cl, 0xe7, c.Timecode) // Timecode
		for _, b := range c.SimpleBlock {
			if len(b.Data) != 1 {
				return marshalVoice(d) // laced frames (no browser writes them)
			}
			flags := byte(0)
			if b.Keyframe {
				flags |= 0x80
			}
			if b.Invisible {
				flags |= 0x08
			}
			if b.Discardable {
				flags |= 0x01
			}
			cl = append(cl, 0xa3) // SimpleBlock
			cl = appendSize(cl, uint64(4+len(b.Data[0])))
			cl = append(cl, 0x81, byte(uint16(b.Timecode)>>8), byte(b.Timecode), flags) // track 1
			cl = append(cl, b.Data[0]...)
		}
		segment.Write([]byte{0x1f, 0x43, 0xb6, 0x75}) // Cluster
		segment.Write(appendSize(nil, uint64(len(cl))))
		segment.Write(cl)
	}
	out := append(head.Bytes(), 0x18, 0x53, 0x80, 0x67) // Segment
	out = appendSize(out, uint64(segment.Len()))
	return append(out, segment.Bytes()...), nil
}

func marshalVoice(d *voiceDoc) ([]byte, error) {
	var buf bytes.Buffer
	err := ebml.Marshal(d, &buf)
	return buf.Bytes(), err
}

// appendSize appends an EBML element size as an 8-byte variable integer.
func appendSize(b []byte, n uint64) []byte {
	return append(b, 0x01, byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// appendUintElement appends a one-byte-id element holding an unsigned
// integer in as few bytes as it needs.
func appendUintElement(b []byte, id byte, v uint64) []byte {
	n := 1
	for v>>(8*n) != 0 && n < 8 {
		n++
	}
	b = append(b, id, 0x80|byte(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// cleanVoice checks a parsed recording and returns it as it is stored.
func cleanVoice(in *voiceDoc) (*voiceDoc, time.Duration, error) {
	bad := func(msg string) (*voiceDoc, time.Duration, error) { return nil, 0, FieldError("voice", "%s", msg) }
	if in.Header.DocType != "webm" {
		return bad("录音格式不对（应为 WebM/Opus）")
	}
	seg := &in.Segment
	if len(seg.Tracks.TrackEntry) != 1 {
		return bad("录音应只有一路声音")
	}
	tr := seg.Tracks.TrackEntry[0]
	if tr.TrackType != 2 || tr.CodecID != "A_OPUS" || tr.Audio == nil || tr.Audio.Channels < 1 || tr.Audio.Channels > 2 ||
		!bytes.HasPrefix(tr.CodecPrivate, []byte("OpusHead")) || len(tr.CodecPrivate) > 64 {
		return bad("录音格式不对（应为 Opus 声音）")
	}
	scale := seg.Info.TimecodeScale
	if scale == 0 {
		scale = 1_000_000 // the WebM default
	}
	if scale > uint64(time.Second) {
		return bad("录音文件已损坏，无法读取")
	}
	var end, last time.Duration // end of the last packet; start of the last block
	packets := 0
	clusters := make([]webm.Cluster, 0, len(seg.Cluster))
	for _, cl := range seg.Cluster {
		if len(cl.BlockGroup) > 0 {
			return bad("录音格式不对（应为 Opus 声音）")
		}
		out := webm.Cluster{Timecode: cl.Timecode, SimpleBlock: make([]ebml.Block, 0, len(cl.SimpleBlock))}
		for _, b := range cl.SimpleBlock {
			if b.TrackNumber != tr.TrackNumber || len(b.Data) == 0 {
				return bad("录音格式不对（应为 Opus 声音）")
			}
			at := time.Duration((int64(cl.Timecode) + int64(b.Timecode)) * int64(scale))
			if at < last || cl.Timecode > 1<<40 {
				return bad("录音文件已损坏，无法读取")
			}
			last = at
			var d time.Duration
			for _, f := range b.Data {
				fd, ok := opusPacketDuration(f)
				if !ok {
					return bad("录音文件已损坏，无法读取")
				}
				d += fd
				packets++
			}
			end = max(end, at+d)
			if end > MaxVoiceSeconds*time.Second+voiceSlack {
				return bad("录音不能超过60秒")
			}
			b.TrackNumber = 1
			out.SimpleBlock = append(out.SimpleBlock, b)
		}
		clusters = append(clusters, out)
	}
	if packets == 0 || end < MinVoiceSeconds*time.Second {
		return bad("录音太短，请按下“开始录音”后说话")
	}
	track := webm.TrackEntry{
		TrackNumber: 1, TrackUID: 1, CodecID: tr.CodecID, CodecPrivate: tr.CodecPrivate,
		CodecDelay: tr.CodecDelay, SeekPreRoll: tr.SeekPreRoll, TrackType: 2,
		Audio: &webm.Audio{SamplingFrequency: tr.Audio.SamplingFrequency, Channels: tr.Audio.Channels},
	}
	out := &voiceDoc{
		Header: webm.EBMLHeader{EBMLVersion: 1, EBMLReadVersion: 1, EBMLMaxIDLength: 4, EBMLMaxSizeLength: 8, DocType: "webm", DocTypeVersion: 4, DocTypeReadVersion: 2},
		Segment: webm.Segment{
			Info:    webm.Info{TimecodeScale: scale, MuxingApp: "gridbox", WritingApp: "gridbox", Duration: float64(end) / float64(scale)},
			Tracks:  webm.Tracks{TrackEntry: []webm.TrackEntry{track}},
			Cluster: clusters,
		},
	}
	return out, end, nil
}

// opusPacketDuration is the length of an Opus packet from its table of
// contents byte (RFC 6716, section 3.1).
func opusPacketDuration(p []byte) (time.Duration, bool) {
	if len(p) == 0 {
		return 0, false
	}
	toc := p[0]
	cfg := int(toc >> 3)
	var frame time.Duration
	switch {
	case cfg < 12: // SILK: 10, 20, 40, 60 ms
		frame = [...]time.Duration{10, 20, 40, 60}[cfg%4] * time.Millisecond
	case cfg < 16: // hybrid: 10, 20 ms
		frame = [...]time.Duration{10, 20}[cfg%2] * time.Millisecond
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [...]time.Duration{2500, 5000, 10000, 20000}[cfg%4] * time.Microsecond
	}
	n := 1
	switch toc & 3 {
	case 1, 2:
		n = 2
	case 3:
		if len(p) < 2 {
			return 0, false
		}
		n = int(p[1] & 0x3f)
	}
	d := time.Duration(n) * frame
	if n == 0 || d > 120*time.Millisecond {
		return 0, false
	}
	return d, true
}

// IsVoice reports whether stored bytes are a voice message (not a photo).
func IsVoice(data []byte) bool { return bytes.HasPrefix(data, ebmlMagic) }

// CheckVoice checks voice bytes that came from another node against their
// content address, and that they are a recording PrepareVoice would take.
// The bytes are not required to be this version's exact output: another
// node may run another version.
func CheckVoice(sum string, data []byte) error {
	h := sha256.Sum256(data)
	if hex.EncodeToString(h[:]) != sum {
		return errors.New("voice message does not match its content address")
	}
	if _, _, _, err := PrepareVoice(data); err != nil {
		return fmt.Errorf("voice message: %s", ErrorMessage(err))
	}
	return nil
}
