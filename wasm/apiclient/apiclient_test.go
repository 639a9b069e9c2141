//go:build js && wasm

package apiclient

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall/js"
	"testing"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/syncproto"
)

// The tests run in headless Chromium (wasmbrowsertest), where the page
// cannot reach a server binary. The page's fetch is replaced by one that
// hands each request, as the browser's fetch would send it, to a Go
// handler routed from the same account.API definitions the server routes
// (a stand-in that checks what the real handler checks of the wire:
// method, path, JSON, the signature over account.Message with a nonce it
// issued). The real handler is driven through these calls by the e2e
// tests (TestAccountOpening, TestGuardianEnrollsChild, TestDeskEnrollment).

// key is the account's key the stand-in knows.
var pub, priv, _ = ed25519.GenerateKey(nil)

// edSigner signs with priv, as devkey.Keys does in WebCrypto.
type edSigner struct{}

func (edSigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	return ed25519.Sign(priv, msg), nil
}

// standIn is the account API as the stand-in serves it, and what it saw.
type standIn struct {
	mux    *http.ServeMux
	nonces map[string]bool
	seen   []string // "METHOD path signer"
}

func newStandIn() *standIn {
	s := &standIn{mux: http.NewServeMux(), nonces: map[string]bool{}}
	s.mux.HandleFunc(syncproto.CardAPI.Nonce.Pattern(), func(w http.ResponseWriter, r *http.Request) {
		n := []byte{byte(len(s.nonces) + 1), 2, 3, 4}
		s.nonces[string(n)] = true
		json.NewEncoder(w).Encode(syncproto.CardNonce{Nonce: n})
	})
	api := account.API
	serve(s, api.Open, func(req account.Request) (account.Account, error) {
		if len(req.Key) == 0 {
			return account.Account{}, &syncproto.Error{Code: syncproto.CodeInvalid, Message: "no key"}
		}
		return account.Account{ID: "R-000001"}, nil
	})
	serve(s, api.Household, func(account.None) (account.Household, error) {
		return account.Household{Guardian: account.Account{ID: "R-000001"}}, nil
	})
	serve(s, api.RegisterFace, func(t template.Template) (account.None, error) {
		if t.Resident != "R-000002" {
			return account.None{}, &syncproto.Error{Code: account.CodeNotYours, Message: "この人はあなたの世帯にいません。 / not yours"}
		}
		return account.None{}, nil
	})
	serve(s, api.Pass, func(p account.Person) (account.Pass, error) {
		return account.Pass{Text: "PASS:" + p.Resident}, nil
	})
	serve(s, api.Facilities, func(account.None) ([]facility.Facility, error) {
		return []facility.Facility{{ID: "kaga-playpark", Kind: facility.PlayPark}}, nil
	})
	serve(s, api.DeskEnroll, func(v account.Supervised) (account.Account, error) {
		return account.Account{ID: "R-000003", Source: account.SourceDesk}, nil
	})
	return s
}

// serve routes ep on the stand-in: it checks the request as the server
// does (JSON; signed ones over the path, a nonce it issued, once, the
// body) and answers do's result, or its refusal with status 409.
func serve[Req, Resp any](s *standIn, ep account.Endpoint[Req, Resp], do func(Req) (Resp, error)) {
	s.mux.HandleFunc(ep.Pattern(), func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		signer := ""
		switch {
		case ep.Get:
		case ep.By == account.Unsigned:
			body = readAll(r)
		default:
			var sr account.Signed
			if json.Unmarshal(readAll(r), &sr) != nil || !s.nonces[string(sr.Nonce)] ||
				!ed25519.Verify(pub, account.Message(ep.Path, sr.Nonce, sr.Body), sr.Sig) {
				w.WriteHeader(http.StatusForbidden)
				json.NewEncoder(w).Encode(syncproto.Error{Code: account.CodeSigned, Message: "bad signature"})
				return
			}
			delete(s.nonces, string(sr.Nonce))
			body, signer = sr.Body, sr.Signer
		}
		s.seen = append(s.seen, r.Method+" "+ep.Path+" "+signer)
		var req Req
		if body != nil {
			if err := json.Unmarshal(body, &req); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				json.NewEncoder(w).Encode(syncproto.Error{Code: syncproto.CodeMalformed, Message: err.Error()})
				return
			}
		}
		out, err := do(req)
		var ef *syncproto.Error
		if errors.As(err, &ef) {
			w.WriteHeader(http.StatusConflict)
			json.NewEncoder(w).Encode(ef)
			return
		}
		json.NewEncoder(w).Encode(out)
	})
}

// servePlain routes an endpoint nobody signs (the card check's, the
// admin API's) on the stand-in, as serve does.
func servePlain[Req, Resp any](s *standIn, ep syncproto.Endpoint[Req, Resp], do func(Req) (Resp, error)) {
	serve(s, account.Endpoint[Req, Resp]{Endpoint: ep}, do)
}

func readAll(r *http.Request) []byte {
	var b bytes.Buffer
	b.ReadFrom(r.Body)
	return b.Bytes()
}

// installFetch replaces the page's fetch with h until the test ends.
func installFetch(t *testing.T, h http.Handler) {
	global := js.Global()
	orig := global.Get("fetch")
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		url, init := args[0].String(), args[1]
		method, body := init.Get("method").String(), ""
		if b := init.Get("body"); b.Type() == js.TypeString {
			body = b.String()
		}
		req := httptest.NewRequest(method, strings.TrimPrefix(url, "http://api.test"), strings.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		buf := global.Get("Uint8Array").New(rec.Body.Len())
		js.CopyBytesToJS(buf, rec.Body.Bytes())
		resp := global.Get("Response").New(buf, map[string]any{"status": rec.Code})
		return global.Get("Promise").Call("resolve", resp)
	})
	global.Set("fetch", fn)
	t.Cleanup(func() {
		global.Set("fetch", orig)
		fn.Release()
	})
}

// TestAccountAPICalls: each kind of call (unsigned POST, GET, signed by
// the holder, signed by a desk device) reaches its endpoint's path with
// its method, signed where the definition says, and decodes the answer;
// a refusal comes back as the server's code.
func TestAccountAPICalls(t *testing.T) {
	s := newStandIn()
	installFetch(t, s.mux)
	ctx := context.Background()
	c := Client{Base: "http://api.test"}
	api := account.API
	type call struct {
		name string
		do   func() (any, error)
		want any
		code string // a refusal's code
	}
	for _, tc := range []call{
		{"open", func() (any, error) { return Call(ctx, c, api.Open, account.Request{Key: pub}) }, account.Account{ID: "R-000001"}, ""},
		{"open refused", func() (any, error) { return Call(ctx, c, api.Open, account.Request{}) }, nil, syncproto.CodeInvalid},
		{"facilities (GET)", func() (any, error) { return Call(ctx, c, api.Facilities, account.None{}) },
			[]facility.Facility{{ID: "kaga-playpark", Kind: facility.PlayPark}}, ""},
		{"household", func() (any, error) { return CallSigned(ctx, c, api.Household, "R-000001", edSigner{}, account.None{}) },
			account.Household{Guardian: account.Account{ID: "R-000001"}}, ""},
		{"face", func() (any, error) {
			return CallSigned(ctx, c, api.RegisterFace, "R-000001", edSigner{}, template.Template{Resident: "R-000002"})
		}, account.None{}, ""},
		{"face refused", func() (any, error) {
			return CallSigned(ctx, c, api.RegisterFace, "R-000001", edSigner{}, template.Template{Resident: "R-999999"})
		}, nil, account.CodeNotYours},
		{"pass", func() (any, error) {
			return CallSigned(ctx, c, api.Pass, "R-000001", edSigner{}, account.Person{Resident: "R-000002"})
		}, account.Pass{Text: "PASS:R-000002"}, ""},
		{"desk", func() (any, error) {
			return CallSigned(ctx, c, api.DeskEnroll, "desk-1", edSigner{}, account.Supervised{Staff: "山田"})
		},
			account.Account{ID: "R-000003", Source: account.SourceDesk}, ""},
	} {
		got, err := tc.do()
		if tc.code != "" {
			var ef *syncproto.Error
			if !errors.As(err, &ef) || ef.Code != tc.code {
				t.Errorf("%s: %v, want the refusal %s", tc.name, err, tc.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(tc.want)
		if !bytes.Equal(g, w) {
			t.Errorf("%s: %s, want %s", tc.name, g, w)
		}
	}
	want := []string{
		"POST /accounts ", "POST /accounts ", "GET /facilities ", "POST /accounts/household R-000001", "POST /accounts/face R-000001",
		"POST /accounts/face R-000001", "POST /accounts/pass R-000001", "POST /desk/residents desk-1",
	}
	if strings.Join(s.seen, "|") != strings.Join(want, "|") {
		t.Errorf("the stand-in saw %q, want %q", s.seen, want)
	}
	// A signed endpoint called unsigned, and the reverse, fail before
	// anything is sent.
	if _, err := Call(ctx, c, api.Household, account.None{}); err == nil {
		t.Error("a holder's endpoint was called unsigned")
	}
	if _, err := CallSigned(ctx, c, api.Open, "x", edSigner{}, account.Request{}); err == nil {
		t.Error("an unsigned endpoint was called signed")
	}
}

// TestCardAndAdminCalls: the card check's and the admin API's calls
// reach their endpoints' paths from the definitions the server routes,
// with the request types the definitions name, and decode the answers;
// a refusal comes back as the server's code.
func TestCardAndAdminCalls(t *testing.T) {
	s := newStandIn()
	servePlain(s, syncproto.CardAPI.Verify, func(p syncproto.CardProof) (syncproto.CardResult, error) {
		if !s.nonces[string(p.Nonce)] || string(p.Sig) != "signed" {
			return syncproto.CardResult{}, &syncproto.Error{Code: syncproto.CodeCardSignature, Message: "bad"}
		}
		return syncproto.CardResult{Serial: "5A"}, nil
	})
	servePlain(s, admin.API.SignIn, func(in admin.SignIn) (admin.Session, error) {
		if in.Password != "right" {
			return admin.Session{}, &syncproto.Error{Code: admin.RefusedSignIn, Message: "no"}
		}
		return admin.Session{Token: "tok", Staff: admin.Staff{ID: in.ID, Role: admin.Administrator}}, nil
	})
	servePlain(s, admin.API.Code, func(r admin.CodeRequest) (admin.Code, error) {
		if r.Token != "tok" {
			return admin.Code{}, &syncproto.Error{Code: admin.RefusedSession, Message: "ended"}
		}
		return admin.Code{Code: r.Facility + "/" + r.Role}, nil
	})
	installFetch(t, s.mux)
	ctx := context.Background()
	c := Client{Base: "http://api.test"}

	nonce, err := c.CardNonce(ctx)
	if err != nil || len(nonce) == 0 {
		t.Fatalf("nonce %x, %v", nonce, err)
	}
	if res, err := c.CheckCard(ctx, syncproto.CardProof{Nonce: nonce, Sig: []byte("signed")}); err != nil || res.Serial != "5A" {
		t.Errorf("check: %+v, %v", res, err)
	}
	var ef *syncproto.Error
	if _, err := c.CheckCard(ctx, syncproto.CardProof{Nonce: nonce, Sig: []byte("forged")}); !errors.As(err, &ef) || ef.Code != syncproto.CodeCardSignature {
		t.Errorf("a bad proof: %v", err)
	}

	a := Admin{c}
	var sess admin.Session
	if err := a.Call(ctx, admin.API.SignIn.Path, admin.SignIn{ID: "yamada", Password: "wrong"}, &sess); !errors.As(err, &ef) || ef.Code != admin.RefusedSignIn {
		t.Errorf("a wrong password: %v", err)
	}
	if err := a.Call(ctx, admin.API.SignIn.Path, admin.SignIn{ID: "yamada", Password: "right"}, &sess); err != nil || sess.Token != "tok" || sess.Staff.ID != "yamada" {
		t.Fatalf("sign in: %+v, %v", sess, err)
	}
	var code admin.Code
	if err := a.Call(ctx, admin.API.Code.Path, admin.CodeRequest{Request: admin.Request{Token: sess.Token}, Facility: "kaga-hq", Role: "registrar"}, &code); err != nil || code.Code != "kaga-hq/registrar" {
		t.Errorf("code: %+v, %v", code, err)
	}
	// An answer that is not the endpoint's type is refused as malformed.
	var wrong []int
	if err := a.Call(ctx, admin.API.Code.Path, admin.CodeRequest{Request: admin.Request{Token: "tok"}}, &wrong); !errors.Is(err, syncproto.ErrMalformed) {
		t.Errorf("an answer of another type: %v", err)
	}
	want := []string{"POST /card/verify ", "POST /card/verify ", "POST /admin/api/signin ", "POST /admin/api/signin ", "POST /admin/api/code ", "POST /admin/api/code "}
	if strings.Join(s.seen, "|") != strings.Join(want, "|") {
		t.Errorf("the stand-in saw %q, want %q", s.seen, want)
	}
}
