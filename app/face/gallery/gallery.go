// Package gallery is the 1:N search of a terminal: every template of its
// scope in one dense, contiguous float32 matrix, scanned exactly for the
// best cosine scores, and a decision rule that accepts the best only above
// a threshold and with a margin over the second best, so that two similar
// residents are never confused silently.
//
// Templates are stored as float16 (package template) and widened once when
// they enter the gallery; a scan is then one pass over memory, with no
// allocation when the caller passes its result slice.
package gallery

import (
	"errors"
	"fmt"
	"math"

	"smartpass.city/smartpass/app/template"
)

// Gallery holds unit-length vectors of one model, by id. It is not safe
// for concurrent use.
type Gallery struct {
	model string
	dims  int
	ids   []string
	vecs  []float32 // len(ids) * dims, row i is ids[i]
	index map[string]int
}

// ErrModel is returned for a template of another model or length: scores
// across models mean nothing, so they are never mixed.
var ErrModel = errors.New("gallery: template of another model")

// ErrVector is returned for a vector holding NaN or an infinity: its
// every score would be NaN, which sorts nowhere and would hide the real
// best match (a broken template must not stop a terminal recognising
// anyone).
var ErrVector = errors.New("gallery: vector is not finite")

// New returns an empty gallery for templates of model with dims values.
func New(model string, dims int) *Gallery {
	return &Gallery{model: model, dims: dims, index: make(map[string]int)}
}

// FromTemplates builds a gallery of the templates of model, returning how
// many of another model it left out (they need re-enrollment).
func FromTemplates(model string, dims int, ts map[string]template.Template) (*Gallery, int) {
	g := New(model, dims)
	skipped := 0
	for _, t := range ts {
		if g.PutTemplate(t) != nil {
			skipped++
		}
	}
	return g, skipped
}

// Len is the number of templates.
func (g *Gallery) Len() int { return len(g.ids) }

// PutTemplate adds or replaces a stored template.
func (g *Gallery) PutTemplate(t template.Template) error {
	if t.Model != g.model || len(t.Vec) != 2*g.dims {
		return fmt.Errorf("%w: %s with %d values, gallery is %s with %d", ErrModel, t.Model, len(t.Vec)/2, g.model, g.dims)
	}
	return g.Put(t.Resident, template.Unpack(t.Vec))
}

// Put adds or replaces id's vector, normalised to unit length.
func (g *Gallery) Put(id string, vec []float32) error {
	if len(vec) != g.dims {
		return fmt.Errorf("%w: %d values, gallery has %d", ErrModel, len(vec), g.dims)
	}
	for _, x := range vec {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: template of %s", ErrVector, id)
		}
	}
	row, ok := g.index[id]
	if !ok {
		row = len(g.ids)
		g.ids = append(g.ids, id)
		g.vecs = append(g.vecs, make([]float32, g.dims)...)
		g.index[id] = row
	}
	template.Normalize(g.vecs[row*g.dims:(row+1)*g.dims], vec)
	return nil
}

// Delete removes id (a resident deleted their face, or withdrew consent).
func (g *Gallery) Delete(id string) {
	row, ok := g.index[id]
	if !ok {
		return
	}
	last := len(g.ids) - 1
	if row != last { // move the last row into the hole
		copy(g.vecs[row*g.dims:(row+1)*g.dims], g.vecs[last*g.dims:])
		g.ids[row] = g.ids[last]
		g.index[g.ids[row]] = row
	}
	g.ids, g.vecs = g.ids[:last], g.vecs[:last*g.dims]
	delete(g.index, id)
}

// Match is one candidate: an id and its cosine similarity to the probe.
type Match struct {
	ID    string
	Score float32
}

// TopK returns the k best matches for probe (best first), reusing out's
// storage. probe need not be normalised.
func (g *Gallery) TopK(probe []float32, k int, out []Match) []Match {
	out = out[:0]
	if len(probe) != g.dims || k <= 0 {
		return out
	}
	var norm float64
	for _, x := range probe {
		norm += float64(x) * float64(x)
	}
	// A probe of NaN or infinities matches no one: its every score would
	// be NaN (the rows are finite: Put refuses any other), checked here
	// once rather than per row of the scan.
	if norm == 0 || math.IsNaN(norm) || math.IsInf(norm, 0) {
		return out
	}
	inv := float32(1 / math.Sqrt(norm))
	for row := range g.ids {
		dot := dotProduct(g.vecs[row*g.dims:(row+1)*g.dims], probe) * inv
		if len(out) == k && dot <= out[k-1].Score {
			continue
		}
		// Insert in order; k is small (2 for the decision rule).
		if len(out) < k {
			out = append(out, Match{})
		}
		i := len(out) - 1
		for ; i > 0 && out[i-1].Score < dot; i-- {
			out[i] = out[i-1]
		}
		out[i] = Match{ID: g.ids[row], Score: dot}
	}
	return out
}

// dotProduct is the scan's inner loop: four independent sums, so the
// additions do not wait on each other, and one bounds check up front.
func dotProduct(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Unreachable is a threshold no cosine of normalised embeddings reaches
// (they are at most 1): the rule or check that has no measured basis for
// its scores accepts nothing.
const Unreachable = 2

// Rule accepts a best match only when it scores at least Threshold and
// beats the second best by at least Margin.
type Rule struct {
	Threshold float32
	Margin    float32
}

// Decision is the outcome of Rule.Decide.
type Decision struct {
	ID       string
	Accepted bool
	// Reason says why a probe was not accepted: "no_match" (nobody close
	// enough) or "ambiguous" (two residents too close to tell apart).
	Reason string
}

// Decide applies the rule to TopK's result (k of at least 2).
func (r Rule) Decide(top []Match) Decision {
	// Written as "not at least" so that a NaN score (a broken vector)
	// refuses instead of passing both comparisons.
	switch {
	case len(top) == 0 || !(top[0].Score >= r.Threshold):
		return Decision{Reason: "no_match"}
	case len(top) > 1 && !(top[0].Score-top[1].Score >= r.Margin):
		return Decision{Reason: "ambiguous"}
	}
	return Decision{ID: top[0].ID, Accepted: true}
}

// Verify is the 1:1 check of two vectors (a live face against a card's
// photo): their cosine similarity and whether it reaches threshold.
func Verify(a, b []float32, threshold float32) (float32, bool) {
	if len(a) != len(b) || len(a) == 0 {
		return 0, false
	}
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0, false
	}
	s := float32(dot / math.Sqrt(na*nb))
	return s, s >= threshold
}
