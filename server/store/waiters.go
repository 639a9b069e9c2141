package store

import "sync"

// Waiters hands out, per feed, a channel closed at the next change to that
// feed: how an engine implements Log.Changed, so a device's quiet feeds
// cost nothing while its busy one streams. An engine publishes its new
// head first and wakes after, so a reader that takes the channel before
// it reads misses nothing. The zero value is ready to use.
type Waiters struct {
	mu sync.Mutex
	ch map[string]chan struct{}
}

// Changed returns the channel of feed's next change.
func (w *Waiters) Changed(feed string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch := w.ch[feed]
	if ch == nil {
		if w.ch == nil {
			w.ch = make(map[string]chan struct{})
		}
		ch = make(chan struct{})
		w.ch[feed] = ch
	}
	return ch
}

// Wake closes the channels of the feeds in touched, or of every feed
// when touched is nil (a change whose feeds are not known).
func (w *Waiters) Wake(touched map[string]bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for feed, ch := range w.ch {
		if touched == nil || touched[feed] {
			close(ch)
			delete(w.ch, feed)
		}
	}
}
