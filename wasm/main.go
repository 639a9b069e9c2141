//go:build js && wasm

// Command wasm is the PWA as it runs in the browser: it opens the device's
// op log in IndexedDB, starts the sync engine over the browser's WebSocket,
// and hands both to the screens in app/ui.
package main

import (
	"context"

	"github.com/hack-pad/safejs"
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/app/ui"
	"smartpass.city/smartpass/wasm/idb"
	"smartpass.city/smartpass/wasm/ws"
)

// dbName is the IndexedDB database holding the device's log.
const dbName = "smartpass"

func main() {
	ctx := context.Background()
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
	eng, err := synclog.New(ctx, store, ws.Dialer(syncURL()), synclog.Options{Client: "pwa"})
	if err != nil {
		return err
	}
	ui.Register(eng)
	go eng.Run(ctx)
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

// syncURL is the sync endpoint of the server that served the page: wss
// where the page came over https.
func syncURL() string {
	loc, _ := safejs.Global().Get("location")
	proto, _ := loc.Get("protocol")
	host, _ := loc.Get("host")
	p, _ := proto.String()
	h, _ := host.String()
	scheme := "ws://"
	if p == "https:" {
		scheme = "wss://"
	}
	return scheme + h + "/sync"
}
