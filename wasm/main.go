//go:build js && wasm

// Command wasm is the PWA as it runs in the browser: it opens the device's
// op log in IndexedDB, its key in WebCrypto, starts the sync engine over
// the browser's WebSocket once the device is enrolled, and hands all of
// it to the screens in app/ui.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"strings"
	"sync"

	"github.com/hack-pad/safejs"
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/cardphoto"
	"smartpass.city/smartpass/app/enroll"
	"smartpass.city/smartpass/app/face/gemm"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/furusato"
	"smartpass.city/smartpass/app/j2k"
	"smartpass.city/smartpass/app/offline"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/app/ui"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/wasm/apiclient"
	"smartpass.city/smartpass/wasm/browser"
	"smartpass.city/smartpass/wasm/camera"
	"smartpass.city/smartpass/wasm/devkey"
	"smartpass.city/smartpass/wasm/faceworker"
	"smartpass.city/smartpass/wasm/fetch"
	"smartpass.city/smartpass/wasm/geolocation"
	"smartpass.city/smartpass/wasm/idb"
	"smartpass.city/smartpass/wasm/j2kcodec"
	"smartpass.city/smartpass/wasm/readiness"
	"smartpass.city/smartpass/wasm/simdgemm"
	"smartpass.city/smartpass/wasm/webusb"
	"smartpass.city/smartpass/wasm/ws"
)

// dbName is the IndexedDB database holding the device's log.
const dbName = "smartpass"

func main() {
	ctx := context.Background()
	// The face networks' products and depthwise convolutions run as a
	// WebAssembly SIMD kernel where the browser has SIMD (a third of
	// the time a frame takes in Go's loops); the values are the same.
	if k, err := simdgemm.New(); err != nil {
		app.Log("smartpass: the face networks run without SIMD:", err)
	} else {
		gemm.Use(k)
	}
	// The same program runs the face pipeline in the terminals' Web
	// Worker (wasm/faceworker): there it serves the page's requests.
	if faceworker.InWorker() {
		if err := faceworker.Serve(); err != nil {
			app.Log("smartpass: the face worker stopped:", err)
		}
		return
	}
	// ?faceworker=off at load keeps the pipeline on the page: to compare
	// (TestFaceLoopThread), or for a browser whose workers misbehave.
	if !strings.Contains(app.Window().URL().RawQuery, "faceworker=off") {
		ui.UseFaceWorker(func() (ui.FaceRunner, error) { return faceworker.Start() })
	}
	if err := start(ctx); err != nil {
		app.Log("smartpass: cannot keep records on this device:", err)
		ui.RegisterUnavailable(err)
	}
	app.RunWhenOnBrowser()
}

func start(ctx context.Context) error {
	store, err := idb.Open(ctx, dbName)
	if err != nil {
		return err
	}
	keys := devkey.New(store)
	eng, err := synclog.New(ctx, store, ws.Dialer(origin("ws")+"/sync"), synclog.Options{Client: "pwa", Signer: keys, Logf: app.Logf, Erases: template.Erases})
	if err != nil {
		return err
	}
	e, ok, err := store.Enrollment(ctx)
	if err != nil {
		return err
	}
	// The service worker caches the face model only on devices whose role
	// recognises faces; the watcher tells it which this one is.
	ready := readiness.Start(ctx, offline.NeedsModel(string(e.Role), ok))
	d := &device{ctx: ctx, store: store, keys: keys, eng: eng, enr: e, ok: ok, ready: ready}
	ui.UseTill(store.Till(ctx))
	ui.UseCounter(counter{keys, store})
	acct, dk := accounts{devkey.New(store.Keys("account")), store}, desk{keys, store}
	ui.UseDonor(donor{acct})
	ui.UsePhotoDecoder(&photoCodec{})
	ui.UseGeolocation(geolocation.Geolocation{})
	ui.Register(eng, d, usbReader{}, server(), acct, dk, faces{}, apiclient.Admin{Client: server()}, ready, browser.Browser{}, visits{acct, dk})
	if ok {
		d.run()
	}
	// The browser knows first when the network is back: reconnect now
	// instead of waiting out the backoff.
	if online, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any {
		eng.Kick()
		return nil
	}); err == nil {
		safejs.Global().Call("addEventListener", "online", online.Value())
	}
	return nil
}

// device is the tablet's enrollment (ui.Device). Sync runs only once the
// device is enrolled: before, the server would refuse every connect.
type device struct {
	ctx   context.Context
	store *idb.Store
	keys  *devkey.Keys
	eng   *synclog.Engine
	ready *readiness.Watcher

	mu      sync.Mutex
	enr     enroll.Enrollment
	ok      bool
	running bool
}

func (d *device) run() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.running {
		d.eng.Kick() // re-enrolled: stop waiting out the backoff
		return
	}
	d.running = true
	go d.eng.Run(d.ctx)
}

// Enrollment implements ui.Device.
func (d *device) Enrollment() (enroll.Enrollment, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.enr, d.ok
}

// Enroll implements ui.Device.
func (d *device) Enroll(ctx context.Context, code string) (enroll.Enrollment, error) {
	e, err := enroll.Enroll(ctx, register, d.store.DeviceID(), code, "", d.keys, d.store)
	if err != nil {
		return e, err
	}
	d.mu.Lock()
	d.enr, d.ok = e, true
	d.mu.Unlock()
	d.ready.SetModel(offline.NeedsModel(string(e.Role), true))
	d.run()
	return e, nil
}

// DemoCodes implements ui.Device.
func (d *device) DemoCodes(ctx context.Context) ([]syncproto.DemoCode, error) {
	status, body, err := fetch.Do(ctx, "GET", origin("http")+syncproto.DemoCodesPath, nil)
	if err != nil {
		return nil, err
	}
	if status != 200 {
		return nil, fmt.Errorf("demo codes: HTTP %d", status)
	}
	var out []syncproto.DemoCode
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("demo codes: %w", err)
	}
	return out, nil
}

// register posts a registration with the browser's fetch.
func register(ctx context.Context, req syncproto.RegisterRequest) (syncproto.RegisterResponse, error) {
	return apiclient.Post[syncproto.RegisterResponse](ctx, server(), syncproto.RegisterPath, req)
}

// server is the server that served the page, for its HTTP API.
func server() apiclient.Client { return apiclient.Client{Base: origin("http")} }

// photoCodec decodes the card's JPEG 2000 photo with OpenJPEG in
// WebAssembly (wasm/j2kcodec), loaded at the first card-face check: most
// tablets never need its half a megabyte.
type photoCodec struct {
	mu  sync.Mutex
	dec *j2kcodec.Decoder
}

// Prepare loads the codec (ui.Preparer): the screen asks as the check
// opens, so the module is ready by the time 照合番号B is typed.
func (c *photoCodec) Prepare(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.load(ctx)
}

func (c *photoCodec) load(ctx context.Context) error {
	if c.dec != nil {
		return nil
	}
	d, err := j2kcodec.Load(ctx)
	if err != nil { // offline before the codec was ever fetched, say
		return fmt.Errorf("%w: %w", cardphoto.ErrNoDecoder, err)
	}
	c.dec = d
	return nil
}

func (c *photoCodec) Decode(ctx context.Context, data []byte, lim j2k.Limits) (*image.Gray, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.load(ctx); err != nil {
		return nil, err
	}
	return c.dec.Decode(ctx, data, lim)
}

// usbReader is the card reader over WebUSB (ui.Reader).
type usbReader struct{}

func (usbReader) Connect(ctx context.Context) (apdu.Transceiver, error) {
	c, err := webusb.Connect(ctx)
	if err != nil {
		return nil, err // not a nil *webusb.Conn in a non-nil interface
	}
	return c, nil
}

// accounts is the resident's account on this device (ui.Accounts): its
// key pair in WebCrypto, apart from the device's, its id in IndexedDB,
// and the server's account endpoints.
type accounts struct {
	keys  *devkey.Keys
	store *idb.Store
}

func (a accounts) AccountKey(ctx context.Context) ([]byte, error) {
	pub, err := a.keys.Public(ctx)
	if errors.Is(err, devkey.ErrNoKey) {
		return a.keys.Generate(ctx)
	}
	return pub, err
}

func (a accounts) Holder(ctx context.Context) (string, error) { return a.store.Account(ctx) }

func (a accounts) OpenAccount(ctx context.Context, req account.Request) (account.Account, error) {
	return a.hold(ctx, account.API.Open, req)
}

func (a accounts) RecoverAccount(ctx context.Context, req account.Request) (account.Account, error) {
	return a.hold(ctx, account.API.Recover, req)
}

// hold opens or recovers the account at ep and records that this device
// holds it.
func (a accounts) hold(ctx context.Context, ep account.Endpoint[account.Request, account.Account], req account.Request) (account.Account, error) {
	acc, err := apiclient.Call(ctx, server(), ep, req)
	if err == nil {
		err = a.store.SaveAccount(ctx, acc.ID)
	}
	return acc, err
}

func (a accounts) AddMember(ctx context.Context, m account.Member) (account.Account, error) {
	return asHolder(ctx, a, account.API.AddMember, m)
}

func (a accounts) Household(ctx context.Context) (account.Household, error) {
	return asHolder(ctx, a, account.API.Household, account.None{})
}

func (a accounts) RegisterFace(ctx context.Context, t template.Template) error {
	_, err := asHolder(ctx, a, account.API.RegisterFace, t)
	return err
}

func (a accounts) DeleteFace(ctx context.Context, resident string) error {
	_, err := asHolder(ctx, a, account.API.DeleteFace, account.Person{Resident: resident})
	return err
}

func (a accounts) Pass(ctx context.Context, resident string) (account.Pass, error) {
	return asHolder(ctx, a, account.API.Pass, account.Person{Resident: resident})
}

func (a accounts) DeleteAccount(ctx context.Context) error {
	if _, err := asHolder(ctx, a, account.API.Delete, account.None{}); err != nil {
		return err
	}
	return a.store.SaveAccount(ctx, "")
}

func (a accounts) SetConsent(ctx context.Context, c account.Consent) error {
	_, err := asHolder(ctx, a, account.API.Consent, c)
	return err
}

func (a accounts) History(ctx context.Context) ([]account.Visit, error) {
	return asHolder(ctx, a, account.API.History, account.None{})
}

// Statement and TopUpCard make the accounts ui.Wallets: the wallet's
// endpoints, asked as the account's holder.
func (a accounts) Statement(ctx context.Context, resident string) (wallet.Statement, error) {
	return asHolder(ctx, a, wallet.API.Statement, account.Person{Resident: resident})
}

func (a accounts) TopUpCard(ctx context.Context, t wallet.CardTopUp) (wallet.CardResult, error) {
	return asHolder(ctx, a, wallet.API.TopUpCard, t)
}

// SetLimits is the holder's setting of a household member's wallet
// limits.
func (a accounts) SetLimits(ctx context.Context, s wallet.Settings) (wallet.Statement, error) {
	return asHolder(ctx, a, wallet.API.Settings, s)
}

var _ ui.Wallets = accounts{}

func (accounts) Facilities(ctx context.Context) ([]facility.Facility, error) {
	return apiclient.Call(ctx, server(), account.API.Facilities, account.None{})
}

// desk is the city desk's registration (ui.Desk), signed with the
// device's own key.
type desk struct {
	keys  *devkey.Keys
	store *idb.Store
}

func (d desk) EnrollAtDesk(ctx context.Context, s account.Supervised) (account.Account, error) {
	return apiclient.CallSigned(ctx, server(), account.API.DeskEnroll, d.store.DeviceID(), d.keys, s)
}

// counter is the donation counter's requests (ui.CounterAPI), signed
// with the device's own key.
type counter struct {
	keys  *devkey.Keys
	store *idb.Store
}

func (c counter) Quote(ctx context.Context, s furusato.CounterSale) (furusato.Offer, error) {
	return apiclient.CallSigned(ctx, server(), furusato.CounterAPI.Quote, c.store.DeviceID(), c.keys, s)
}

func (c counter) Pay(ctx context.Context, s furusato.CounterSale) (furusato.CounterPaid, error) {
	return apiclient.CallSigned(ctx, server(), furusato.CounterAPI.Pay, c.store.DeviceID(), c.keys, s)
}

func (c counter) Receipt(ctx context.Context, r furusato.CounterReceipt) (furusato.Receipts, error) {
	return apiclient.CallSigned(ctx, server(), furusato.CounterAPI.Receipt, c.store.DeviceID(), c.keys, r)
}

// donor is the hometown-tax donor's requests (ui.DonorAPI), signed as
// the account's holder.
type donor struct{ a accounts }

func (d donor) Donations(ctx context.Context, y furusato.Year) (furusato.Statement, error) {
	return asHolder(ctx, d.a, furusato.API.Donations, y)
}

func (d donor) Receipts(ctx context.Context, y furusato.Year) (furusato.Receipts, error) {
	return asHolder(ctx, d.a, furusato.API.Receipts, y)
}

func (d donor) Ceiling(ctx context.Context, f furusato.CeilingFigures) (furusato.CeilingEstimate, error) {
	return asHolder(ctx, d.a, furusato.API.Ceiling, f)
}

func (d donor) OneStop(ctx context.Context, a furusato.Application) (furusato.Applied, error) {
	return asHolder(ctx, d.a, furusato.API.OneStop, a)
}

// visits is the hospital visit's endpoints (ui.VisitAPI): the account
// page's signed by the account's holder, a reception tablet's by the
// device.
type visits struct {
	acct accounts
	dev  desk
}

func (v visits) Call(ctx context.Context, path string, by account.Signer, req, resp any) error {
	if by == account.Holder {
		id, err := v.acct.store.Account(ctx)
		if err != nil || id == "" {
			return fmt.Errorf("account: this device holds no account: %v", err)
		}
		return apiclient.Signed(ctx, server(), path, id, v.acct.keys, req, resp)
	}
	return apiclient.Signed(ctx, server(), path, v.dev.store.DeviceID(), v.dev.keys, req, resp)
}

// asHolder calls ep as the account's holder.
func asHolder[Req, Resp any](ctx context.Context, a accounts, ep account.Endpoint[Req, Resp], req Req) (Resp, error) {
	id, err := a.store.Account(ctx)
	if err != nil || id == "" {
		var zero Resp
		return zero, fmt.Errorf("account: this device holds no account: %v", err)
	}
	return apiclient.CallSigned(ctx, server(), ep, id, a.keys, req)
}

// faces is the camera and the face model download (ui.Faces).
type faces struct{}

// modelPath is where the server serves the face model made by `make
// models` (the assets directory is served under /web/). On a device that
// recognises faces the service worker answers it from its cache.
const modelPath = "/web/models/face.spm"

func (faces) OpenCamera(ctx context.Context, previewID string) (ui.Frames, error) {
	return camera.Open(ctx, previewID)
}

func (faces) FaceModel(ctx context.Context, progress func(done, total int64)) ([]byte, error) {
	return fetch.Download(ctx, origin("http")+modelPath, progress)
}

// origin is the server that served the page, as scheme://host, where
// scheme is "http" or "ws" (with an s added for a page that came over
// https).
func origin(scheme string) string {
	loc, _ := safejs.Global().Get("location")
	proto, _ := loc.Get("protocol")
	host, _ := loc.Get("host")
	p, _ := proto.String()
	h, _ := host.String()
	if p == "https:" {
		scheme += "s"
	}
	return scheme + "://" + h
}
