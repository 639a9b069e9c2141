//go:build js && wasm

package idb

import (
	"context"
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"
)

// txn is one IndexedDB transaction with the Go callbacks it owns.
type txn struct {
	tx    safejs.Value
	done  chan error
	funcs []safejs.Func
	err   error // first failure to issue a request
}

func (s *Store) begin(mode string, stores ...string) (*txn, error) {
	names := make([]any, len(stores))
	for i, n := range stores {
		names[i] = n
	}
	tx, err := s.db.Call("transaction", names, mode)
	if err != nil {
		return nil, fmt.Errorf("idb: begin %s transaction: %w", mode, err)
	}
	t := &txn{tx: tx, done: make(chan error, 1)}
	t.on("complete", func(safejs.Value) { t.finish(nil) })
	t.on("error", func(safejs.Value) { t.finish(t.txError("failed")) })
	t.on("abort", func(safejs.Value) { t.finish(t.txError("aborted")) })
	return t, nil
}

func (t *txn) finish(err error) {
	select {
	case t.done <- err:
	default:
	}
}

// txError names the DOMException behind a failed transaction
// ("QuotaExceededError: ..." when the tablet's storage is full).
func (t *txn) txError(what string) error {
	e, err := t.tx.Get("error")
	if err != nil || e.IsNull() || e.IsUndefined() {
		return fmt.Errorf("transaction %s", what)
	}
	name, _ := e.Get("name")
	msg, _ := e.Get("message")
	n, _ := name.String()
	m, _ := msg.String()
	return fmt.Errorf("transaction %s: %s: %s", what, n, m)
}

func (t *txn) on(event string, fn func(safejs.Value)) {
	f, err := safejs.FuncOf(func(this safejs.Value, args []safejs.Value) any {
		fn(this)
		return nil
	})
	if err != nil {
		t.fail(err)
		return
	}
	t.funcs = append(t.funcs, f)
	if err := t.tx.Set("on"+event, f.Value()); err != nil {
		t.fail(err)
	}
}

func (t *txn) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

func (t *txn) store(name string) safejs.Value {
	s, err := t.tx.Call("objectStore", name)
	if err != nil {
		t.fail(err)
	}
	return s
}

// request calls method on store with args and, when the request succeeds,
// calls onResult with its result. onResult runs inside the transaction and
// may issue more requests.
func (t *txn) request(store safejs.Value, method string, args []any, onResult func(safejs.Value)) {
	req, err := store.Call(method, args...)
	if err != nil {
		t.fail(fmt.Errorf("%s: %w", method, err))
		t.abort()
		return
	}
	if onResult == nil {
		return
	}
	f, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any {
		v, err := req.Get("result")
		if err != nil {
			t.fail(err)
			return nil
		}
		onResult(v)
		return nil
	})
	if err != nil {
		t.fail(err)
		t.abort()
		return
	}
	t.funcs = append(t.funcs, f)
	req.Set("onsuccess", f.Value())
}

func (t *txn) abort() {
	t.tx.Call("abort") // fails harmlessly if already finished
}

// wait blocks until the transaction has committed or failed.
func (t *txn) wait(ctx context.Context) error {
	defer func() {
		for _, f := range t.funcs {
			f.Release()
		}
	}()
	select {
	case err := <-t.done:
		if t.err != nil {
			return t.err
		}
		return err
	case <-ctx.Done():
		t.abort()
		<-t.done
		return ctx.Err()
	}
}

// await waits for an IDBRequest outside a transaction (opening the
// database) and returns its result.
func await(ctx context.Context, req safejs.Value) (safejs.Value, error) {
	type result struct {
		v   safejs.Value
		err error
	}
	done := make(chan result, 1)
	ok, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any {
		v, err := req.Get("result")
		done <- result{v, err}
		return nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	defer ok.Release()
	fail, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any {
		e, _ := req.Get("error")
		msg := "request failed"
		if !e.IsNull() && !e.IsUndefined() {
			m, _ := e.Get("message")
			msg, _ = m.String()
		}
		done <- result{err: errors.New(msg)}
		return nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	defer fail.Release()
	req.Set("onsuccess", ok.Value())
	req.Set("onerror", fail.Value())
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return safejs.Value{}, ctx.Err()
	}
}
