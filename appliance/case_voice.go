package appliance

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
	var buf bytes.Buffer
	if err := ebml.Marshal(out, &buf); err != nil {
		return nil, "", 0, err
	}
	sum := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), hex.EncodeToString(sum[:]), length, nil
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
// content address and the form PrepareVoice gives them.
func CheckVoice(sum string, data []byte) error {
	h := sha256.Sum256(data)
	if hex.EncodeToString(h[:]) != sum {
		return errors.New("voice message does not match its content address")
	}
	out, _, _, err := PrepareVoice(data)
	if err != nil || !bytes.Equal(out, data) {
		return errors.New("voice message is not a stored recording")
	}
	return nil
}
