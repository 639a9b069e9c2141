package ui

import (
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/facetest"
	"smartpass.city/smartpass/app/face/mobilefacenet"
	"smartpass.city/smartpass/app/template"
)

// TestIdentifyGalleryFollowsTheNetwork: a gallery built before the model
// file was loaded holds the placeholder network's (dlib's) templates; once a file of
// another network loads, the screen builds its gallery again with that
// network's templates and reads its rule off that network's basis, with
// no new op in the log to prompt it.
func TestIdentifyGalleryFollowsTheNetwork(t *testing.T) {
	p, e, log := parkPage(t)
	vec := make([]float32, mobilefacenet.Dims)
	vec[0] = 1
	if _, err := log.Record(t.Context(), template.OpPut, template.Template{Resident: "R-1", Model: mobilefacenet.ModelName, Facilities: []string{"kaga-playpark"}, Vec: template.Pack(vec)}); err != nil {
		t.Fatal(err)
	}
	until(t, e, "the template folded", func() bool { return p.st != nil && len(p.st.Templates) == 1 })
	if net, _ := engine.network(); net != embed.ModelName {
		t.Fatalf("before a model file loads the network is %q, want the placeholder's", net)
	}
	if g := p.gallery(); g.Len() != 0 || p.skipped != 1 || p.policy.Basis.Model != embed.ModelName {
		t.Fatalf("before the load: gallery of %d, %d skipped, rule on %v", g.Len(), p.skipped, p.policy.Basis)
	}
	// Staff see the faces held, not "register again": which templates
	// the network can use is not known until its file is loaded.
	if html := app.HTMLString(p); !strings.Contains(html, `data-count="1"`) || strings.Contains(html, "古い形式") {
		t.Fatalf("before the load the page says: %s", html)
	}

	pl, err := face.New(facetest.NetModel(t, "mobilefacenet"), embed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	setEngine(t, pl, nil)

	if g := p.gallery(); g.Len() != 1 || p.galNet != mobilefacenet.ModelName || p.policy.Basis.Model != mobilefacenet.ModelName {
		t.Fatalf("after the load: gallery of %d on %q, rule on %v", g.Len(), p.galNet, p.policy.Basis)
	}
	if html := app.HTMLString(p); !strings.Contains(html, `data-count="1"`) || strings.Contains(html, "古い形式") {
		t.Fatalf("after the load the page says: %s", html)
	}
}
