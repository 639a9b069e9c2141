package numbervault

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"smartpass.city/smartpass/app/mynumber"

	"smartpass.city/smartpass/server/oplog"
)

// A number that passes the check digit, and is nobody's (11 digits
// counting up, check digit 8).
const sample = "123456789018"

type auditLine struct{ actor, action, subject, detail string }

func open(t *testing.T) (*Vault, *oplog.Log, string, *[]auditLine) {
	t.Helper()
	dir := t.TempDir()
	l, err := oplog.Open(dir, oplog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	key := bytes.Repeat([]byte{7}, 32)
	v, err := New(l, key)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []auditLine
	v.Audit = func(a, b, c, d string) { mu.Lock(); lines = append(lines, auditLine{a, b, c, d}); mu.Unlock() }
	return v, l, dir, &lines
}

// grep reports whether needle is in any file under dir.
func grep(t *testing.T, dir, needle string) bool {
	t.Helper()
	found := false
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		found = found || bytes.Contains(b, []byte(needle))
		return nil
	})
	return found
}

// TestExportDeletes: numbers go in sealed (the store's files never hold
// the digits, though the store here is not encrypted at rest), come out
// in their municipality's file only, and are gone from the vault after;
// the audit names applications and municipalities, never a number.
func TestExportDeletes(t *testing.T) {
	v, l, dir, lines := open(t)
	n, _ := mynumber.Parse(sample)
	other, _ := mynumber.Parse("000000000000")
	if err := v.Put("donor-1", "app-1", "東京都世田谷区", n); err != nil {
		t.Fatal(err)
	}
	if err := v.Put("donor-2", "app-2", "大阪府大阪市", other); err != nil {
		t.Fatal(err)
	}
	var backup bytes.Buffer
	if err := l.Backup(&backup); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(backup.Bytes(), []byte(sample)) || grep(t, dir, sample) {
		t.Fatal("the digits are in the store's files or its backup")
	}
	if p, err := v.Pending(); err != nil || p["東京都世田谷区"] != 1 || p["大阪府大阪市"] != 1 {
		t.Fatalf("pending = %v, %v", p, err)
	}
	var file bytes.Buffer
	k, err := v.Export("admin", "東京都世田谷区", &file)
	if err != nil || k != 1 {
		t.Fatalf("export: %d, %v", k, err)
	}
	want := ExportFormat + ",東京都世田谷区,1\r\napp-1," + sample + "\r\n"
	if file.String() != want {
		t.Fatalf("export file:\n%q\nwant\n%q", file.String(), want)
	}
	if p, _ := v.Pending(); p["東京都世田谷区"] != 0 || p["大阪府大阪市"] != 1 {
		t.Fatalf("after export, pending = %v", p)
	}
	var again bytes.Buffer
	if k, err := v.Export("admin", "東京都世田谷区", &again); err != nil || k != 0 {
		t.Fatalf("second export: %d, %v", k, err)
	}
	for _, a := range *lines {
		if strings.Contains(a.detail+a.subject+a.action+a.actor, "1234") {
			t.Fatalf("the audit holds the number: %+v", a)
		}
	}
	if len(*lines) < 5 {
		t.Fatalf("audit lines %v: want put, put, export, delete, export", *lines)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

// TestExportFailsKeeps: an export whose file cannot be written deletes
// nothing.
func TestExportFailsKeeps(t *testing.T) {
	v, _, _, _ := open(t)
	n, _ := mynumber.Parse(sample)
	if err := v.Put("donor-1", "app-1", "東京都世田谷区", n); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Export("admin", "東京都世田谷区", failWriter{}); err == nil {
		t.Fatal("export to a failing writer succeeded")
	}
	if p, _ := v.Pending(); p["東京都世田谷区"] != 1 {
		t.Fatalf("a failed export deleted the number: pending %v", p)
	}
}

// TestWrongKey: the store's key or another key opens no number.
func TestWrongKey(t *testing.T) {
	v, l, _, _ := open(t)
	n, _ := mynumber.Parse(sample)
	if err := v.Put("d", "app-1", "m", n); err != nil {
		t.Fatal(err)
	}
	w, _ := New(l, bytes.Repeat([]byte{8}, 32))
	if _, err := w.Pending(); !errors.Is(err, ErrKey) {
		t.Fatalf("another key: %v", err)
	}
	if _, err := New(l, []byte("short")); !errors.Is(err, ErrKey) {
		t.Fatalf("a short key: %v", err)
	}
}
