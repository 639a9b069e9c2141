package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// TestTemplatesBootstrapIntoIndexedDB: a play-park tablet set up in the
// browser receives the park's templates as a snapshot into IndexedDB,
// and still holds them after a reload.
func TestTemplatesBootstrapIntoIndexedDB(t *testing.T) {
	const n = 3000
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())
	logOnFailure(t, srv)

	// The city desk records n templates for the park.
	key := srv.Enroll(t, "desk-1", "kaga-hq", "registrar")
	vec := make([]float32, 128)
	ops := make([]syncproto.Op, n)
	for i := range ops {
		vec[i%128]++
		body, _ := json.Marshal(template.Template{Resident: fmt.Sprintf("r%05d", i), Model: "test-128", Facilities: []string{"kaga-playpark"}, Vec: template.Pack(vec)})
		ops[i] = syncproto.Op{Seq: uint64(i + 1), HLC: uint64(i + 1), Kind: template.OpPut, Body: body}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pushed := time.Now()
	if err := wsconn.PushAll(ctx, "ws://"+addr+"/sync", "desk-1", key, ops); err != nil {
		t.Fatal(err)
	}

	t.Logf("%d desk templates stored and followed up in %s", n, time.Since(pushed).Round(time.Millisecond))
	tablet := browser(t)
	run(t, tablet, "set the park tablet up", 60*time.Second,
		chromedp.Navigate(base+"/setup"),
		tap(`button.demo-code[data-facility="kaga-playpark"]`),
		chromedp.WaitVisible(chromedp.ID("setup-done")),
	)
	templates := readOps + `readOps().then(async ops => {
		const db = await new Promise((res, rej) => { const r = indexedDB.open("smartpass"); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
		const cur = await new Promise(res => { const q = db.transaction("meta").objectStore("meta").get("cursor:templates.kaga-playpark"); q.onsuccess = () => res(q.result); });
		db.close();
		return ops.filter(o => o.kind === "face.template.put").length === ` + fmt.Sprint(n) + ` && (cur || 0) > 0;
	})`
	start := time.Now()
	waitJS(t, tablet, "all templates in IndexedDB", templates, 12*time.Minute)
	t.Logf("%d templates bootstrapped into IndexedDB in %s", n, time.Since(start).Round(time.Millisecond))
	run(t, tablet, "reload", 60*time.Second, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("code")))
	if !get(t, tablet, "templates after reload", eval[bool](templates)) {
		t.Fatal("templates gone after a reload")
	}
}
