package ui

import (
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/offline"
)

// Offline is what the service worker holds for this device (a
// *readiness.Watcher in the browser).
type Offline interface {
	Status() offline.Status
	// Watch calls fn, on any goroutine, whenever the status changes.
	Watch(fn func()) (stop func())
}

// offlinePill says whether the device is ready to work without the
// network and, while it is not, what it still lacks: a tablet set up on
// a bad link must not look ready when it is not.
func (l *live) offlinePill() app.UI {
	s := l.offline
	class, label := "preparing", l.tr("offline.checking")
	switch {
	case s.Unsupported:
		class, label = "offline", l.tr("offline.unsupported")
	case !s.Known:
	case s.Ready:
		class, label = "online", l.tr("offline.ready")
	default:
		var parts []string
		if s.Lacks(offline.Shell) {
			parts = append(parts, l.tr("offline.part.shell"))
		}
		if s.Lacks(offline.Model) {
			if p := s.Percent(); p > 0 {
				parts = append(parts, l.tr("offline.part.model.pct", p))
			} else {
				parts = append(parts, l.tr("offline.part.model"))
			}
		}
		sep := "、"
		if l.lang == langEN {
			sep = ", "
		}
		label = l.tr("offline.preparing", strings.Join(parts, sep))
	}
	return app.Div().ID("offline-ready").Class("status "+class).
		Attr("role", "status").
		Attr("data-known", s.Known).
		Attr("data-ready", s.Ready).
		Attr("data-missing", strings.Join(s.Missing, " ")).
		Body(app.Span().Class("dot"), app.Span().Text(label))
}
