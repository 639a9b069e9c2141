package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// benchOnly skips a measurement that takes minutes unless the test was
// named with -run (make bench does): make test stays short.
func benchOnly(t *testing.T) {
	t.Helper()
	if f := flag.Lookup("test.run"); f == nil || !strings.Contains(f.Value.String(), t.Name()) {
		t.Skipf("a measurement of minutes: run it by name (go test -run '%s$' ./server/e2e)", t.Name())
	}
}

// benchTemplates is how many templates a measurement's park holds: a
// city's 60,000, or SMARTPASS_BENCH_TEMPLATES (a quick look while
// working on it).
func benchTemplates(t *testing.T) int {
	n := 60000
	if s := os.Getenv("SMARTPASS_BENCH_TEMPLATES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatal("SMARTPASS_BENCH_TEMPLATES:", err)
		}
	}
	return n
}

// benchDesk is a city desk device recording templates for the play park.
type benchDesk struct {
	name string
	key  syncproto.Signer
	seq  int // the last seq recorded
	// net and dims are the model file's network and its embeddings'
	// length: the tablets hold only templates of their own network.
	net  string
	dims int
}

// seedDesks enrolls desks city desks and has them record n templates of
// the real model for the play park between them (several, so the
// per-device rate limit does not pace the seed).
func seedDesks(t *testing.T, srv *serverproc.Proc, addr string, desks, n int) []*benchDesk {
	t.Helper()
	p, err := face.New(facetest.Model(t), embed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	net, dims := p.Model(), p.Dims()
	out := make([]*benchDesk, desks)
	var wg sync.WaitGroup
	for d := range out {
		out[d] = &benchDesk{name: fmt.Sprintf("desk-bench-%d", d), key: srv.Enroll(t, fmt.Sprintf("desk-bench-%d", d), "kaga-hq", "registrar"), net: net, dims: dims}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := out[d].record(addr, n/desks+min(1, max(0, n%desks-d))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// record has the desk record n more templates: random unit vectors, so
// nobody at the camera matches them.
func (d *benchDesk) record(addr string, n int) error {
	ops := make([]syncproto.Op, n)
	vec := make([]float32, d.dims)
	rng := rand.New(rand.NewPCG(uint64(d.seq), uint64(len(d.name))))
	for i := range ops {
		for j := range vec {
			vec[j] = float32(rng.NormFloat64())
		}
		template.Normalize(vec, vec)
		d.seq++
		body, err := json.Marshal(template.Template{Resident: fmt.Sprintf("%s-%06d", d.name, d.seq), Model: d.net, Facilities: []string{"kaga-playpark"}, Vec: template.Pack(vec)})
		if err != nil {
			return err
		}
		ops[i] = syncproto.Op{Seq: uint64(d.seq), HLC: uint64(time.Now().UnixMilli()) << 16, Kind: template.OpPut, Body: body}
	}
	return wsconn.PushAll(context.Background(), "ws://"+addr+"/sync", d.name, d.key, ops)
}

// openParkWith sets a browser up as a play-park terminal and opens its
// face screen once it holds n templates.
func openParkWith(t *testing.T, ctx context.Context, base string, n int) {
	t.Helper()
	start := time.Now()
	setUp(t, ctx, base, "kaga-playpark", "playpark")
	run(t, ctx, "open the face check", 60*time.Second, chromedp.Navigate(base+"/identify"))
	waitJS(t, ctx, "templates synced", `document.querySelector("#gallery-size")?.dataset.count === "`+strconv.Itoa(n)+`"`, 30*time.Minute)
	t.Logf("park terminal ready with %d templates after %s", n, time.Since(start).Round(time.Second))
	time.Sleep(3 * time.Second) // let the last folds settle
}

// admitLatency taps "staff admit" and a band, and returns the
// milliseconds from the band's tap to the day's count showing the entry
// (a mutation observer sees the attribute change).
const admitLatency = `(async () => {
	const count = () => +document.querySelector("#park-counts").dataset.preschool;
	const band = () => document.querySelector('#sight button.sight-band[data-band="preschool"]');
	document.querySelector("#staff-admit").click();
	await new Promise(res => { const w = () => band() ? res() : setTimeout(w, 5); w(); });
	const before = count();
	const shown = new Promise(res => {
		const mo = new MutationObserver(() => { if (count() > before) { mo.disconnect(); res(performance.now()); } });
		mo.observe(document.body, {subtree: true, attributes: true, childList: true, characterData: true});
	});
	const t0 = performance.now();
	band().click();
	return (await shown) - t0;
})()`

// TestProjectionLatency measures what issue 17 item 6 is about: a play
// park terminal holding a city's 60,000 templates records an
// identification (a staff admission by sight), and the day's count on
// its screen shows it. Then a second terminal, its camera showing a
// person, counts the frames its face loop processes with no ops
// arriving and while the desk registers faces for the park. Figures in
// the README; the test fails only when the screen never shows the
// entry or the loop stops.
func TestProjectionLatency(t *testing.T) {
	benchOnly(t)
	n := benchTemplates(t)
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())
	desks := seedDesks(t, srv, addr, 8, n)

	// The tap to the count, on a terminal with no camera (the face
	// loop's frames would add their own delay to the screen's).
	park := browser(t)
	openParkWith(t, park, base, n)
	reps := 7
	if s := os.Getenv("SMARTPASS_BENCH_REPS"); s != "" {
		reps, _ = strconv.Atoi(s)
	}
	var ms []float64
	for i := range max(reps, 1) {
		ctx, cancel := context.WithTimeout(park, 5*time.Minute)
		v, err := chromedp.Run(ctx, eval[float64](admitLatency))
		cancel()
		if err != nil {
			t.Fatalf("admission %d never showed in the count: %v", i+1, err)
		}
		ms = append(ms, v)
		time.Sleep(time.Second)
	}
	t.Logf("tap to count, %d templates: %v ms", n, ms)
	slices.Sort(ms)
	t.Logf("tap to count: median %.0f ms, worst %.0f ms", ms[len(ms)/2], ms[len(ms)-1])

	// The face loop's frames, idle and while ops arrive.
	cam := camera(t, faceVideo(t, "leonard", "leonard2.png", "leonard4.png", "leonard2.png", "mirror:leonard4.png"))
	openParkWith(t, cam, base, n)
	frames := func() int {
		return get(t, cam, "frames", eval[int](`+(document.querySelector(".camera")?.dataset.frames || 0)`))
	}
	waitJS(t, cam, "the face loop running", `+(document.querySelector(".camera")?.dataset.frames || 0) > 3`, 120*time.Second)
	folds := func() int {
		return get(t, cam, "folds", eval[int](`+(document.querySelector("#gallery-size")?.dataset.folds || 0)`))
	}
	const span = 20 * time.Second
	f0, r0 := frames(), folds()
	time.Sleep(span)
	f1, r1 := frames(), folds()
	idle := float64(f1-f0) / span.Seconds()
	// The desk registers faces for the park meanwhile: two a second.
	pushed := 0
	for end := time.Now().Add(span); time.Now().Before(end); pushed++ {
		if err := desks[0].record(addr, 1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	f2, r2 := frames(), folds()
	busy := float64(f2-f1) / span.Seconds()
	time.Sleep(span)
	f3 := frames()
	after := float64(f3-f2) / span.Seconds()
	t.Logf("face loop: %.2f frames/s idle (%d folds of the whole log), %.2f frames/s while %d templates arrived in %s (%d folds), %.2f frames/s idle again",
		idle, r1-r0, busy, pushed, span, r2-r1, after)
	if f2 == f1 {
		t.Fatal("the face loop stopped while ops arrived")
	}
}
