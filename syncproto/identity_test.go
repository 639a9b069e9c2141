package syncproto

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// scripted is a Transport whose server side is a function of the frames
// the device sent.
type scripted struct {
	sent  []Frame
	reply func(Frame) Frame
	queue [][]byte
}

func (s *scripted) Send(_ context.Context, b []byte) error {
	f, err := Decode(b)
	if err != nil {
		return err
	}
	s.sent = append(s.sent, f)
	if r := s.reply(f); r != nil {
		out, err := Encode(r)
		if err != nil {
			return err
		}
		s.queue = append(s.queue, out)
	}
	return nil
}

func (s *scripted) Recv(context.Context) ([]byte, error) {
	if len(s.queue) == 0 {
		return nil, errors.New("nothing to receive")
	}
	b := s.queue[0]
	s.queue = s.queue[1:]
	return b, nil
}

func TestHandshake(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	nonce := bytes.Repeat([]byte{1}, NonceSize)
	server := func(f Frame) Frame {
		switch f := f.(type) {
		case *Hello:
			return &Challenge{Nonce: nonce}
		case *Auth:
			if !ed25519.Verify(pub, AuthMessage("dev-1", nonce), f.Sig) {
				return &Error{Code: CodeUnknownDevice, Message: "bad signature", Fatal: true}
			}
			return &Welcome{Epoch: "e", Role: "shelter"}
		}
		return &Error{Code: CodeSequence, Message: "?"}
	}
	t.Run("good key", func(t *testing.T) {
		w, err := Handshake(context.Background(), &scripted{reply: server}, "dev-1", "test", KeySigner{priv})
		if err != nil || w.Role != "shelter" {
			t.Fatalf("Handshake = %+v, %v", w, err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		_, other, _ := ed25519.GenerateKey(nil)
		_, err := Handshake(context.Background(), &scripted{reply: server}, "dev-1", "test", KeySigner{other})
		var ef *Error
		if !errors.As(err, &ef) || ef.Code != CodeUnknownDevice {
			t.Fatalf("Handshake with another key: err = %v, want an unknown_device refusal", err)
		}
	})
	t.Run("signature bound to device", func(t *testing.T) {
		// The server verifies for dev-1; a signature the same key made as
		// another device must not pass, since the id is in the message.
		_, err := Handshake(context.Background(), &scripted{reply: server}, "dev-2", "test", KeySigner{priv})
		var ef *Error
		if !errors.As(err, &ef) || ef.Code != CodeUnknownDevice {
			t.Fatalf("Handshake as another device: err = %v, want an unknown_device refusal", err)
		}
	})
	t.Run("no challenge", func(t *testing.T) {
		_, err := Handshake(context.Background(), &scripted{reply: func(Frame) Frame { return &Welcome{} }}, "dev-1", "", KeySigner{priv})
		if !errors.Is(err, ErrUnexpected) {
			t.Fatalf("Handshake answered by welcome: err = %v, want ErrUnexpected", err)
		}
	})
}

func TestRegister(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req RegisterRequest
		json.NewDecoder(r.Body).Decode(&req)
		switch req.Code {
		case "GOOD":
			json.NewEncoder(w).Encode(RegisterResponse{Device: req.Device, Facility: "f", Role: "shelter"})
		case "USED":
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(Error{Code: "bad_code", Message: "このコードは使えません"})
		default:
			http.Error(w, "proxy says no", http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	got, err := Register(ctx, srv.Client(), srv.URL+"/", RegisterRequest{Code: "GOOD", Device: "d"})
	if err != nil || got.Role != "shelter" || got.Device != "d" {
		t.Fatalf("Register = %+v, %v", got, err)
	}
	_, err = Register(ctx, srv.Client(), srv.URL, RegisterRequest{Code: "USED", Device: "d"})
	var ef *Error
	if !errors.As(err, &ef) || ef.Code != "bad_code" || ef.Message == "" {
		t.Fatalf("refused Register: err = %v, want the server's Error", err)
	}
	if _, err := Register(ctx, srv.Client(), srv.URL, RegisterRequest{Code: "X", Device: "d"}); err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("Register through a broken proxy: err = %v, want the HTTP status", err)
	}
}
