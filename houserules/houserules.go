// Package houserules holds the house rules of ARCHITECTURE.md §2 as
// checks over the import graph that `go list -deps` reports, so that a
// rule broken fails a test instead of waiting for a reader to notice:
// the wire protocol imports nothing of the project, the server never
// imports the screens, the production server does not link the card
// simulator, the card's folder sits below the verifier that reads it, the sync hub imports no domain package, the
// server's record keepers use the store seam, not an engine, app/ never calls the
// browser itself, and every package that declares op kinds is linked
// where kinds are judged.
//
// The checks take a Graph, so each can be shown failing on a graph made
// up for the purpose; Load reads the real one.
package houserules

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// Module is the project's module path.
const Module = "smartpass.city/smartpass"

// Graph is an import graph: each package's direct imports (tests'
// imports left out: a rule is about what the programs link).
type Graph map[string][]string

// Build says how to load a graph: the platform and build tags.
type Build struct {
	GOOS, GOARCH string // "" for the host's
	Tags         []string
}

// Load runs `go list -deps` in dir over patterns for the build b.
func Load(dir string, b Build, patterns ...string) (Graph, error) {
	args := []string{"list", "-e", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}"}
	if len(b.Tags) > 0 {
		args = append(args, "-tags", strings.Join(b.Tags, ","))
	}
	cmd := exec.Command("go", append(args, patterns...)...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	if b.GOOS != "" {
		cmd.Env = append(cmd.Env, "GOOS="+b.GOOS, "GOARCH="+b.GOARCH)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("houserules: go %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	g := make(Graph)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			g[f[0]] = f[1:]
		}
	}
	return g, sc.Err()
}

// Path returns a chain of imports from `from` to a package that match
// accepts (from itself included), or nil when there is none.
func (g Graph) Path(from string, match func(string) bool) []string {
	seen := map[string]bool{from: true}
	prev := make(map[string]string)
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if match(p) {
			var path []string
			for q := p; q != from; q = prev[q] {
				path = append(path, q)
			}
			path = append(path, from)
			slices.Reverse(path)
			return path
		}
		for _, q := range g[p] {
			if !seen[q] {
				seen[q] = true
				prev[q] = p
				queue = append(queue, q)
			}
		}
	}
	return nil
}

// Violation is one breach of a rule: the chain of imports that breaks it.
type Violation struct {
	Rule string
	Path []string
}

func (v Violation) String() string { return v.Rule + ": " + strings.Join(v.Path, " → ") }

// Rule is one house rule over a graph.
type Rule struct {
	Name  string
	Check func(g Graph) []Violation
}

// In returns a matcher of the package dir of the module and those under
// it ("app" matches app and app/ui).
func In(dir string) func(string) bool {
	p := Module + "/" + dir
	return func(pkg string) bool { return pkg == p || strings.HasPrefix(pkg, p+"/") }
}

// Is returns a matcher of exactly the packages named.
func Is(pkgs ...string) func(string) bool {
	return func(pkg string) bool { return slices.Contains(pkgs, pkg) }
}

// project matches the module's packages.
func project(pkg string) bool { return pkg == Module || strings.HasPrefix(pkg, Module+"/") }

// packages returns the packages of g that match, sorted.
func (g Graph) packages(match func(string) bool) []string {
	var out []string
	for p := range g {
		if match(p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// NeverReaches is the rule that no package that from matches links one
// that to matches, by any chain of imports.
func NeverReaches(name string, from, to func(string) bool) Rule {
	return Rule{Name: name, Check: func(g Graph) []Violation {
		var out []Violation
		for _, p := range g.packages(from) {
			if path := g.Path(p, to); path != nil {
				out = append(out, Violation{Rule: name, Path: path})
			}
		}
		return out
	}}
}

// NeverImports is the rule that no package that from matches imports one
// that to matches directly (what it links through them is theirs).
func NeverImports(name string, from, to func(string) bool) Rule {
	return Rule{Name: name, Check: func(g Graph) []Violation {
		var out []Violation
		for _, p := range g.packages(from) {
			for _, q := range g[p] {
				if to(q) {
					out = append(out, Violation{Rule: name, Path: []string{p, q}})
				}
			}
		}
		return out
	}}
}

// Registry is the package where op kinds are declared, Judge the one
// that links every package that declares them, and Fold the one that
// folds them all into the screens' state.
const (
	Registry = Module + "/app/opkind"
	Judge    = Module + "/app/scope"
	Fold     = Module + "/app/state"
)

// Declares reports whether pkg declares op kinds in g: it imports the
// registry, and is neither the judge nor the fold, which read it.
func (g Graph) Declares(pkg string) bool {
	return pkg != Judge && pkg != Fold && slices.Contains(g[pkg], Registry)
}

// The rules.
var (
	// SyncprotoAlone: the wire protocol (syncproto/ and its wsconn)
	// imports nothing of the project outside itself, so both sides can
	// speak it and neither drags the other in.
	SyncprotoAlone = NeverReaches("syncproto imports nothing of the project", In("syncproto"),
		func(p string) bool { return project(p) && !In("syncproto")(p) })
	// ServerWithoutScreens: nothing under server/ links app/ui.
	ServerWithoutScreens = NeverReaches("server/ never imports app/ui", In("server"), In("app/ui"))
	// ProductionWithoutSimulator: the server binary built for production
	// (no build tag demo) does not link the card simulator. Check it on a
	// graph of ./server loaded without the tag.
	ProductionWithoutSimulator = NeverReaches("the production server does not link app/card/sim", Is(Module+"/server"), In("app/card/sim"))
	// HubWithoutDomains: the sync hub imports no package that declares op
	// kinds, nor the fold of them all (app/state): it reads what it needs
	// of them through app/scope.
	HubWithoutDomains = Rule{Name: "server/hub imports no domain package", Check: func(g Graph) []Violation {
		domain := func(p string) bool { return g.Declares(p) || p == Fold }
		// Its test server (hubtest) seeds the demo facilities: a test's.
		hub := func(p string) bool { return In("server/hub")(p) && !In("server/hub/hubtest")(p) }
		return NeverImports("server/hub imports no domain package", hub, domain).Check(g)
	}}
	// EngineBehindSeam: the server's packages keep their records through
	// the store seam (server/store), not an engine, so a second engine
	// (a replicated one) serves them unchanged. Only the packages that
	// open a store (the command line, the API's options, the hub's test
	// server) name an engine: the embedded server/oplog or PostgreSQL's
	// server/pgstore.
	EngineBehindSeam = NeverImports("server packages use server/store, not an engine",
		func(p string) bool {
			return In("server")(p) && !Is(Module+"/server", Module+"/server/cli", Module+"/server/api")(p) &&
				!In("server/oplog")(p) && !In("server/pgstore")(p) && !In("server/hub/hubtest")(p)
		}, func(p string) bool { return In("server/oplog")(p) || In("server/pgstore")(p) })
	// NumberGrantOneStopOnly: the grant that opens the individual number's
	// file on the card is imported by the card package (which checks it)
	// and the one-stop flow (which alone holds it), nothing else. Go's
	// internal rule already keeps it under app/card; this keeps it from
	// the rest of app/card (readers, the simulator).
	NumberGrantOneStopOnly = NeverImports("only app/card/onestop holds the individual number's grant",
		func(p string) bool { return !Is(Module+"/app/card", Module+"/app/card/onestop")(p) },
		Is(Module+"/app/card/internal/numbergrant"))
	// CardBelowVerifier: the card's folder (its protocols, readers and
	// simulator) sits below the certificate verifier, which reads the
	// card: nothing there imports app/jpki but the test helpers, which
	// join the two. (The simulator once did, for the facts' OIDs and the
	// anchors: the one arrow that ran back up.)
	CardBelowVerifier = NeverReaches("app/card/ does not import app/jpki",
		func(p string) bool { return In("app/card")(p) && !In("app/card/cardtest")(p) }, Is(Module+"/app/jpki"))
	// AppWithoutBrowser: app/ does not call the browser: it defines
	// interfaces that wasm/ implements with safejs. Check it on a graph
	// loaded for js/wasm, where the browser's packages exist.
	AppWithoutBrowser = NeverImports("app/ does not call the browser (syscall/js, safejs)", In("app"),
		Is("syscall/js", "github.com/hack-pad/safejs"))
	// AppWithoutWasm: nor does it reach the browser through wasm/.
	AppWithoutWasm = NeverReaches("app/ does not import wasm/", In("app"), In("wasm"))
	// KindsLinked: every package that declares op kinds is imported by
	// the judge, so every program that judges ops knows every kind (a
	// kind not linked would be refused on the server and shown nowhere).
	KindsLinked = Rule{Name: "every package that declares op kinds is linked by app/scope", Check: func(g Graph) []Violation {
		var out []Violation
		for _, p := range g.packages(g.Declares) {
			if !slices.Contains(g[Judge], p) {
				out = append(out, Violation{Rule: "every package that declares op kinds is linked by app/scope", Path: []string{p, Registry}})
			}
		}
		return out
	}}
)

// Excuse is a known violation, allowed until the work that removes it
// lands: Why names it.
type Excuse struct {
	Rule string
	Path []string
	Why  string
}

// Apply checks the rules over g and returns the violations no excuse
// covers, and the excuses that no longer match anything (a rule mended:
// its excuse must go).
func Apply(g Graph, rules []Rule, excuses []Excuse) (broken []Violation, stale []Excuse) {
	used := make([]bool, len(excuses))
	for _, r := range rules {
		for _, v := range r.Check(g) {
			i := slices.IndexFunc(excuses, func(e Excuse) bool { return e.Rule == v.Rule && slices.Equal(e.Path, v.Path) })
			if i < 0 {
				broken = append(broken, v)
				continue
			}
			used[i] = true
		}
	}
	for i, e := range excuses {
		if !used[i] {
			stale = append(stale, e)
		}
	}
	slices.SortFunc(broken, func(a, b Violation) int { return cmp.Compare(a.String(), b.String()) })
	return broken, stale
}
