// Package syncproto is the wire protocol between a device and the sync
// server: the frames, their encoding, and the limits every frame must keep.
//
// A frame travels as one binary websocket message:
//
//	byte 0     protocol version (Version)
//	byte 1     frame type (Type)
//	byte 2...  body: the frame's fields as JSON
//
// The two-byte envelope lets either side reject a frame of a newer protocol
// or of an unknown type before it parses a single body byte, and it leaves
// room for binary bodies where size matters (face template snapshots).
// Control frames use JSON bodies because they are small, their field names
// are stable under additions (unknown fields are ignored, so a newer device
// can talk to an older server within one version), and a person debugging a
// shelter tablet can read them. Op bodies are opaque JSON owned by the
// application; this package only bounds their size.
//
// Decode never trusts its input: every frame is bounded by MaxFrameSize, every
// list and string by its own limit, and every failure wraps one of the
// sentinel errors below so both sides can map it to an Error frame.
//
// # Device identity
//
// Every session is authenticated. A device holds an Ed25519 key pair whose
// public half the server learned when the device registered with a
// one-time enrollment code (RegisterRequest). The session opens with Hello;
// the server answers with a Challenge carrying a fresh random nonce; the
// device signs AuthMessage(device, nonce) and sends it in Auth. Only then
// does the server send Welcome, which names the device's facility, role and
// feeds. A nonce is used for one connection only, so a recorded Auth frame
// is worthless on any other connection.
//
// This package imports nothing of the project: both the server and the
// client engine build on it.
package syncproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Version is the protocol version this package speaks. A peer that sends
// another version is refused with CodeVersion. Version 2 added the
// challenge and signature of device identity.
const Version = 2

// Limits on what one frame may carry. They protect the server from a single
// device exhausting memory and keep a batch small enough to be acknowledged
// quickly on a slow shelter link.
const (
	MaxFrameSize  = 1 << 20 // bytes in one encoded frame
	MaxOpsPerPush = 256     // ops in one Push or Ops frame
	MaxOpBody     = 16 << 10
	MaxKindLen    = 64
	MaxDeviceLen  = 64
	MaxFeedLen    = 128
	MaxFeeds      = 16 // feeds named in one Welcome
	MaxMessageLen = 1024
	NonceSize     = 32 // bytes of a Challenge nonce
)

// Type identifies a frame on the wire.
type Type uint8

// The frame types. The numbers are part of the protocol: never reuse one.
const (
	TypeHello     Type = 1  // device -> server: first frame of a session
	TypeWelcome   Type = 2  // server -> device: answer to Hello
	TypePush      Type = 3  // device -> server: a batch of local ops
	TypeAck       Type = 4  // server -> device: highest contiguous device_seq held
	TypePull      Type = 5  // device -> server: start a feed after a cursor
	TypeOps       Type = 6  // server -> device: ops of a feed in global order
	TypeError     Type = 7  // either way: a refusal with a code and a message
	TypeChallenge Type = 8  // server -> device: answer to Hello, a nonce to sign
	TypeAuth      Type = 9  // device -> server: the signed nonce
	TypeChunk     Type = 10 // server -> device: one chunk of a feed's snapshot (binary body)
)

func (t Type) String() string {
	switch t {
	case TypeHello:
		return "hello"
	case TypeWelcome:
		return "welcome"
	case TypePush:
		return "push"
	case TypeAck:
		return "ack"
	case TypePull:
		return "pull"
	case TypeOps:
		return "ops"
	case TypeError:
		return "error"
	case TypeChallenge:
		return "challenge"
	case TypeAuth:
		return "auth"
	case TypeChunk:
		return "chunk"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Sentinel errors wrapped by Decode and Encode. Use errors.Is.
var (
	ErrTooLarge    = errors.New("frame too large")
	ErrVersion     = errors.New("unsupported protocol version")
	ErrUnknownType = errors.New("unknown frame type")
	ErrMalformed   = errors.New("malformed frame")
	ErrInvalid     = errors.New("invalid frame content")
	// ErrUnexpected means a well-formed frame arrived where the session
	// did not allow it (Handshake).
	ErrUnexpected = errors.New("unexpected frame")
)

// Error codes carried by an Error frame. A device acts on the code; the
// message is for the person looking at the screen or the log.
const (
	CodeMalformed   = "malformed"    // the bytes did not parse
	CodeTooLarge    = "too_large"    // over a size limit
	CodeVersion     = "version"      // protocol version not spoken here
	CodeUnknownType = "unknown_type" // frame type not known
	CodeInvalid     = "invalid"      // parsed, but a field is out of bounds
	CodeSequence    = "sequence"     // frame not allowed at this point of the session
	CodeLimit       = "limit"        // a per-device limit was reached; retry later
	CodeInternal    = "internal"     // the server failed; retry later
	// CodeUnknownDevice: the server has no such device, or the signature
	// did not verify. The device must be set up again with a new code.
	CodeUnknownDevice = "unknown_device"
	// CodeRevoked: an admin revoked this device. It keeps its records but
	// may not sync until it is set up again.
	CodeRevoked = "revoked"
	// CodeForbidden: the device asked for a feed outside its scope.
	CodeForbidden = "forbidden"
)

// CodeOf maps a Decode or Encode error to the Error frame code that names it.
func CodeOf(err error) string {
	switch {
	case errors.Is(err, ErrTooLarge):
		return CodeTooLarge
	case errors.Is(err, ErrVersion):
		return CodeVersion
	case errors.Is(err, ErrUnknownType):
		return CodeUnknownType
	case errors.Is(err, ErrMalformed):
		return CodeMalformed
	case errors.Is(err, ErrInvalid):
		return CodeInvalid
	case errors.Is(err, ErrUnexpected):
		return CodeSequence
	}
	return CodeInternal
}

// Op is one entry of a device's append-only log.
//
// Device and Seq identify the op everywhere: (Device, Seq) is unique and Seq
// is gapless per device. HLC orders ops from devices whose wall clocks
// disagree. Global is the server's sequence number, zero until the server
// has stored the op. The server sets Device from the authenticated session,
// never from what the device wrote.
type Op struct {
	Device string          `json:"dev"`
	Seq    uint64          `json:"seq"`
	HLC    uint64          `json:"hlc"`
	Kind   string          `json:"kind"`
	Body   json.RawMessage `json:"body,omitempty"`
	Global uint64          `json:"g,omitempty"`
}

// Validate reports whether op keeps the protocol's bounds.
func (op *Op) Validate() error { return op.validate(true) }

// validate is Validate; checkBody false skips reading the body as JSON,
// for an op that json.Unmarshal decoded from a frame (it refuses a frame
// any part of which is not JSON, so a second reading of each body only
// cost time).
func (op *Op) validate(checkBody bool) error {
	switch {
	case op.Seq == 0:
		return fmt.Errorf("%w: op has seq 0", ErrInvalid)
	case len(op.Kind) > MaxKindLen || !kindChars(op.Kind):
		return fmt.Errorf("%w: op kind %q", ErrInvalid, truncate(op.Kind))
	case len(op.Device) > MaxDeviceLen:
		return fmt.Errorf("%w: op device id longer than %d", ErrInvalid, MaxDeviceLen)
	case len(op.Body) > MaxOpBody:
		return fmt.Errorf("%w: op body of %d bytes (limit %d)", ErrTooLarge, len(op.Body), MaxOpBody)
	case checkBody && len(op.Body) > 0 && !json.Valid(op.Body):
		return fmt.Errorf("%w: op body is not JSON", ErrInvalid)
	}
	return nil
}

// ValidDeviceID reports whether id may name a device.
func ValidDeviceID(id string) bool {
	return len(id) <= MaxDeviceLen && deviceChars(id)
}

// Frame is any frame of the protocol.
type Frame interface {
	// Type is the frame's type byte on the wire.
	Type() Type
	validate() error
}

// Hello opens a session. Client names the app build for the server's log.
type Hello struct {
	Proto  int    `json:"proto"`
	Device string `json:"device"`
	Client string `json:"client,omitempty"`
}

// Challenge answers Hello with a nonce the device must sign.
type Challenge struct {
	Nonce []byte `json:"nonce"`
}

// Auth carries the device's Ed25519 signature of AuthMessage(device,
// nonce).
type Auth struct {
	Sig []byte `json:"sig"`
}

// Welcome answers a good Auth. Acked is the highest contiguous device_seq
// the server holds for this device: the device resends everything after
// it. Epoch changes when the server is restored from a backup; a device
// that sees a new epoch resends and re-pulls from scratch. Facility and
// Role are what the device was enrolled as; Feeds are the feeds it may
// pull, and should.
type Welcome struct {
	Epoch    string   `json:"epoch"`
	Acked    uint64   `json:"acked"`
	Head     uint64   `json:"head"`
	Server   string   `json:"server,omitempty"`
	Facility string   `json:"facility,omitempty"`
	Role     string   `json:"role,omitempty"`
	Feeds    []string `json:"feeds,omitempty"`
	// Snapshot lists the feeds (of Feeds) that a device with no cursor
	// should bootstrap from a snapshot instead of replaying every op.
	Snapshot []string `json:"snapshot,omitempty"`
}

// authContext separates sync signatures from anything else the device key
// might ever sign.
const authContext = "smartpass sync auth v2"

// AuthMessage is the message a device signs to answer a Challenge: a
// context string, the device id and the nonce, each delimited, so no
// signature made for one device or purpose verifies for another.
func AuthMessage(device string, nonce []byte) []byte {
	m := make([]byte, 0, len(authContext)+len(device)+len(nonce)+2)
	m = append(m, authContext...)
	m = append(m, 0)
	m = append(m, device...)
	m = append(m, 0)
	return append(m, nonce...)
}

// Push carries a batch of the device's own ops in device_seq order.
type Push struct {
	Ops []Op `json:"ops"`
}

// Ack tells the device every op up to and including Acked is stored durably.
type Ack struct {
	Acked uint64 `json:"acked"`
}

// Pull asks for the ops of Feed after the global sequence After, then for
// live updates on the same connection.
//
// With Snapshot set (and After zero), the server first sends the feed
// compacted, as Chunk frames, then the ops after the snapshot's cursor. A
// device whose bootstrap was cut off sends the snapshot's cursor as
// ResumeAt and the next chunk it needs as ResumeFrom: the server rebuilds
// the same snapshot and goes on from there.
type Pull struct {
	Feed       string `json:"feed"`
	After      uint64 `json:"after"`
	Snapshot   bool   `json:"snapshot,omitempty"`
	ResumeAt   uint64 `json:"resume_at,omitempty"`
	ResumeFrom uint64 `json:"resume_from,omitempty"`
}

// Ops delivers ops of a feed in global order. Cursor is the global sequence
// to resume after; CaughtUp says the server has sent all it had.
type Ops struct {
	Feed     string `json:"feed"`
	Ops      []Op   `json:"ops"`
	Cursor   uint64 `json:"cursor"`
	CaughtUp bool   `json:"caught_up,omitempty"`
}

// Error refuses a frame or a session. Code is one of the Code constants;
// Message says what happened in words a volunteer can act on. Fatal means
// the sender closes the connection after this frame.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Fatal   bool   `json:"fatal,omitempty"`
}

// Type implements Frame.
func (*Hello) Type() Type { return TypeHello }

// Type implements Frame.
func (*Challenge) Type() Type { return TypeChallenge }

// Type implements Frame.
func (*Auth) Type() Type { return TypeAuth }

// Type implements Frame.
func (*Welcome) Type() Type { return TypeWelcome }

// Type implements Frame.
func (*Push) Type() Type { return TypePush }

// Type implements Frame.
func (*Ack) Type() Type { return TypeAck }

// Type implements Frame.
func (*Pull) Type() Type { return TypePull }

// Type implements Frame.
func (*Ops) Type() Type { return TypeOps }

// Type implements Frame.
func (*Error) Type() Type { return TypeError }

// Clip makes msg fit an Error frame's Message: invalid UTF-8 replaced
// first (it would grow when JSON-encoded and fail the receiver's limit),
// then cut between characters, never inside one (a Japanese message cut
// mid-character would not encode), with "…" marking the cut.
func Clip(msg string) string {
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if len(msg) <= MaxMessageLen {
		return msg
	}
	const mark = "…"
	cut := MaxMessageLen - len(mark)
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + mark
}

// Error makes a received Error frame usable as a Go error, so callers can
// test for a refusal with errors.As and read its code.
func (f *Error) Error() string { return "refused by server: " + f.Code + ": " + f.Message }

func (f *Hello) validate() error {
	if !ValidDeviceID(f.Device) {
		return fmt.Errorf("%w: device id %q", ErrInvalid, truncate(f.Device))
	}
	return nil
}

func (f *Challenge) validate() error {
	if len(f.Nonce) != NonceSize {
		return fmt.Errorf("%w: nonce of %d bytes, want %d", ErrInvalid, len(f.Nonce), NonceSize)
	}
	return nil
}

func (f *Auth) validate() error {
	if len(f.Sig) != SignatureSize {
		return fmt.Errorf("%w: signature of %d bytes, want %d", ErrInvalid, len(f.Sig), SignatureSize)
	}
	return nil
}

// SignatureSize is the length of an Ed25519 signature.
const SignatureSize = 64

func (f *Welcome) validate() error {
	if len(f.Feeds) > MaxFeeds {
		return fmt.Errorf("%w: %d feeds (limit %d)", ErrInvalid, len(f.Feeds), MaxFeeds)
	}
	for _, feed := range append(slices.Clone(f.Feeds), f.Snapshot...) {
		if err := validateFeed(feed); err != nil {
			return err
		}
	}
	if len(f.Snapshot) > MaxFeeds {
		return fmt.Errorf("%w: %d snapshot feeds (limit %d)", ErrInvalid, len(f.Snapshot), MaxFeeds)
	}
	return nil
}

func (f *Push) validate() error { return validateOps(f.Ops, true) }

func (f *Push) validateDecoded() error { return validateOps(f.Ops, false) }

func (f *Ack) validate() error { return nil }

func (f *Pull) validate() error { return validateFeed(f.Feed) }

func (f *Ops) validate() error { return f.validateOps(true) }

func (f *Ops) validateDecoded() error { return f.validateOps(false) }

func (f *Ops) validateOps(checkBodies bool) error {
	if err := validateFeed(f.Feed); err != nil {
		return err
	}
	return validateOps(f.Ops, checkBodies)
}

func (f *Error) validate() error {
	if f.Code == "" || len(f.Code) > MaxKindLen || len(f.Message) > MaxMessageLen {
		return fmt.Errorf("%w: error frame code %q", ErrInvalid, truncate(f.Code))
	}
	return nil
}

func validateFeed(feed string) error {
	if len(feed) > MaxFeedLen || !feedChars(feed) {
		return fmt.Errorf("%w: feed %q", ErrInvalid, truncate(feed))
	}
	return nil
}

// validateOps checks a frame's ops; checkBodies false for ops decoded
// by json.Unmarshal (Op.validate).
func validateOps(ops []Op, checkBodies bool) error {
	if len(ops) > MaxOpsPerPush {
		return fmt.Errorf("%w: %d ops in one frame (limit %d)", ErrTooLarge, len(ops), MaxOpsPerPush)
	}
	for i := range ops {
		if err := ops[i].validate(checkBodies); err != nil {
			return fmt.Errorf("op %d: %w", i, err)
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// Encode returns the wire bytes of f. It refuses a frame that Decode would
// refuse, so a bug on one side shows up where it was made.
func Encode(f Frame) ([]byte, error) {
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("syncproto: encode %s: %w", f.Type(), err)
	}
	var b bytes.Buffer
	b.WriteByte(Version)
	b.WriteByte(byte(f.Type()))
	if c, ok := f.(*Chunk); ok {
		b.Write(c.appendBinary(nil))
	} else if err := writeJSON(&b, f); err != nil {
		return nil, fmt.Errorf("syncproto: encode %s: %w", f.Type(), err)
	}
	if b.Len() > MaxFrameSize {
		return nil, fmt.Errorf("syncproto: encode %s: %w: %d bytes", f.Type(), ErrTooLarge, b.Len())
	}
	return b.Bytes(), nil
}

// writeJSON writes v's JSON and a newline to b as frames carry it:
// strings and op bodies without escaping <, >, &, U+2028 and U+2029,
// which matters only in HTML. Escaped, a body of 12 KB of '<' that Decode
// accepted grew to 72 KB, over MaxOpBody and a store's byte budget for a
// pull, and no pull past it could be sent again.
func writeJSON(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Decode parses one frame from its wire bytes.
func Decode(p []byte) (Frame, error) {
	if len(p) > MaxFrameSize {
		return nil, fmt.Errorf("syncproto: decode: %w: %d bytes (limit %d)", ErrTooLarge, len(p), MaxFrameSize)
	}
	if len(p) < 2 {
		return nil, fmt.Errorf("syncproto: decode: %w: %d bytes is shorter than the header", ErrMalformed, len(p))
	}
	if p[0] != Version {
		return nil, fmt.Errorf("syncproto: decode: %w: %d (this side speaks %d)", ErrVersion, p[0], Version)
	}
	var f Frame
	switch t := Type(p[1]); t {
	case TypeHello:
		f = new(Hello)
	case TypeWelcome:
		f = new(Welcome)
	case TypeChallenge:
		f = new(Challenge)
	case TypeAuth:
		f = new(Auth)
	case TypePush:
		f = new(Push)
	case TypeAck:
		f = new(Ack)
	case TypePull:
		f = new(Pull)
	case TypeOps:
		f = new(Ops)
	case TypeError:
		f = new(Error)
	case TypeChunk:
		c := new(Chunk)
		if err := c.decodeBinary(p[2:]); err != nil {
			return nil, fmt.Errorf("syncproto: decode chunk: %w", err)
		}
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("syncproto: decode chunk: %w", err)
		}
		return c, nil
	default:
		return nil, fmt.Errorf("syncproto: decode: %w: %d", ErrUnknownType, p[1])
	}
	// Unmarshal, not a Decoder: it refuses trailing data as well, and
	// does not copy the frame (a push is up to MaxFrameSize) into a
	// buffer of its own first.
	if err := json.Unmarshal(p[2:], f); err != nil {
		return nil, fmt.Errorf("syncproto: decode %s: %w: %v", f.Type(), ErrMalformed, err)
	}
	validate := f.validate
	if d, ok := f.(decodedValidator); ok {
		validate = d.validateDecoded
	}
	if err := validate(); err != nil {
		return nil, fmt.Errorf("syncproto: decode %s: %w", f.Type(), err)
	}
	return f, nil
}

// decodedValidator is a frame whose check is cheaper once json.Unmarshal
// has read it whole (its ops' bodies are JSON then).
type decodedValidator interface{ validateDecoded() error }
