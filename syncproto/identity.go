package syncproto

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// RegisterPath is the server's HTTP endpoint where a device registers its
// public key with a one-time enrollment code: POST a RegisterRequest as
// JSON, get a RegisterResponse, or an HTTP error whose body is an Error.
const RegisterPath = "/devices/register"

// RegisterRequest enrolls a device. Code is the one-time code an admin
// issued for a facility and role; Device is the id the device chose for
// its log (it must not be taken); PublicKey is its raw 32-byte Ed25519
// public key; Name is a label for the admin's device list ("受付タブレット1").
type RegisterRequest struct {
	Code      string `json:"code"`
	Device    string `json:"device"`
	PublicKey []byte `json:"public_key"`
	Name      string `json:"name,omitempty"`
}

// RegisterResponse confirms an enrollment: the facility and role the code
// was issued for.
type RegisterResponse struct {
	Device   string `json:"device"`
	Facility string `json:"facility"`
	Role     string `json:"role"`
}

// Transport carries whole frames; Handshake needs nothing else of a
// connection.
type Transport interface {
	Send(ctx context.Context, frame []byte) error
	Recv(ctx context.Context) ([]byte, error)
}

// Signer signs a challenge with the device's private key. In the browser
// the key is a non-extractable WebCrypto key, so signing may wait.
type Signer interface {
	Sign(ctx context.Context, msg []byte) ([]byte, error)
}

// Handshake opens a session on t as device: Hello, the server's Challenge
// signed with key, and the server's Welcome, which it returns. A refusal
// comes back as an *Error (use errors.As).
func Handshake(ctx context.Context, t Transport, device, client string, key Signer) (*Welcome, error) {
	if err := sendFrame(ctx, t, &Hello{Proto: Version, Device: device, Client: client}); err != nil {
		return nil, err
	}
	ch, err := recvFrame[*Challenge](ctx, t)
	if err != nil {
		return nil, err
	}
	sig, err := key.Sign(ctx, AuthMessage(device, ch.Nonce))
	if err != nil {
		return nil, fmt.Errorf("syncproto: sign challenge: %w", err)
	}
	if err := sendFrame(ctx, t, &Auth{Sig: sig}); err != nil {
		return nil, err
	}
	return recvFrame[*Welcome](ctx, t)
}

func sendFrame(ctx context.Context, t Transport, f Frame) error {
	b, err := Encode(f)
	if err != nil {
		return err
	}
	if err := t.Send(ctx, b); err != nil {
		return fmt.Errorf("syncproto: send %s: %w", f.Type(), err)
	}
	return nil
}

// recvFrame reads the next frame and wants it to be a T; an Error frame
// is returned as the error.
func recvFrame[T Frame](ctx context.Context, t Transport) (T, error) {
	var zero T
	b, err := t.Recv(ctx)
	if err != nil {
		return zero, fmt.Errorf("syncproto: receive: %w", err)
	}
	f, err := Decode(b)
	if err != nil {
		return zero, err
	}
	if ef, ok := f.(*Error); ok {
		return zero, ef
	}
	want, ok := f.(T)
	if !ok {
		return zero, fmt.Errorf("syncproto: %w: got %s, want %s", ErrUnexpected, f.Type(), zero.Type())
	}
	return want, nil
}

// KeySigner signs with an Ed25519 private key held in memory: native
// devices, tools and tests. (The browser's key never leaves WebCrypto.)
type KeySigner struct{ Key ed25519.PrivateKey }

// Sign implements Signer.
func (k KeySigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	return ed25519.Sign(k.Key, msg), nil
}

// Register enrolls a device with the server at base (such as
// https://city.example) over client. A refusal comes back as an *Error
// whose Message says why in words for the person setting up the device.
func Register(ctx context.Context, client *http.Client, base string, req RegisterRequest) (RegisterResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return RegisterResponse{}, fmt.Errorf("syncproto: register: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+RegisterPath, bytes.NewReader(body))
	if err != nil {
		return RegisterResponse{}, fmt.Errorf("syncproto: register: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(hreq)
	if err != nil {
		return RegisterResponse{}, fmt.Errorf("syncproto: register: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return RegisterResponse{}, fmt.Errorf("syncproto: register: %w", err)
	}
	return RegisterAnswer(resp.StatusCode, b)
}

// RegisterAnswer reads the server's answer to a registration: the
// response, or the server's refusal as an *Error. The browser, which
// posts with its own fetch, shares it with Register.
func RegisterAnswer(status int, body []byte) (RegisterResponse, error) {
	return Answer[RegisterResponse]("register", status, body)
}

// DemoCodesPath serves, on a demo server only, a fresh enrollment code for
// every demo facility and role as a JSON list of DemoCode: a newcomer sets
// up a tablet of any kind without an admin.
const DemoCodesPath = "/demo/codes"

// DemoCode is one entry of the demo code list.
type DemoCode struct {
	Facility string `json:"facility"`
	NameJA   string `json:"name_ja"`
	NameEN   string `json:"name_en"`
	Role     string `json:"role"`
	Code     string `json:"code"`
}
