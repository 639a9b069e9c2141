package cli

import (
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/mynumber"
	"smartpass.city/smartpass/server/api"
	"smartpass.city/smartpass/server/numbervault"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/receipt"
)

// TestNoReceiptFont: a server without the receipts' font refuses to
// start, saying which package to install, before it touches the store.
func TestNoReceiptFont(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	err := serve([]string{"-data", data, "-receipt-font", filepath.Join(t.TempDir(), "ipag.ttf")}, Build{Version: "test"}, slog.New(slog.DiscardHandler))
	if !errors.Is(err, receipt.ErrNoFont) || !strings.Contains(err.Error(), "fonts-ipafont-gothic") {
		t.Fatalf("serve without the font: %v", err)
	}
	if _, err := os.Stat(data + ".key"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key was made for a server that did not start: %v", err)
	}
}

// TestVaultKey: the vault's key is made beside the store's, read again
// the same, and refused when it is the store's key.
func TestVaultKey(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	storeKey := make([]byte, 32)
	logger := slog.New(slog.DiscardHandler)
	for _, tt := range []struct {
		name, path, want string
		content          string
	}{
		{"made when missing", vaultKeyPath("", data), "", ""},
		{"the store's key", filepath.Join(dir, "same.key"), "the store's key", hex.EncodeToString(storeKey)},
		{"not hex", filepath.Join(dir, "bad.key"), "64 hexadecimal digits", "zz"},
	} {
		if tt.content != "" {
			os.WriteFile(tt.path, []byte(tt.content), 0o600)
		}
		k, err := loadVaultKey(tt.path, data, storeKey, logger)
		if tt.want != "" {
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
			}
			continue
		}
		again, err2 := loadVaultKey(tt.path, data, storeKey, logger)
		if err != nil || err2 != nil || len(k) != 32 || hex.EncodeToString(k) != hex.EncodeToString(again) {
			t.Errorf("%s: %x %v, then %x %v", tt.name, k, err, again, err2)
		}
	}
	if vaultKeyPath("", data) != data+".vault.key" || vaultKeyPath(data+".vault.key", data) == keyPath("", data) {
		t.Error("the vault key's default path is not its own beside the store's")
	}
}

// TestWrongVaultKey: a server whose vault key does not open the numbers
// its vault holds (a restored store started without its vault key) does
// not start, and says which key to give.
func TestWrongVaultKey(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	logger := slog.New(slog.DiscardHandler)
	key, err := newKeyFile(keyPath("", data))
	if err != nil {
		t.Fatal(err)
	}
	vaultKey, err := loadVaultKey(vaultKeyPath("", data), data, key, logger)
	if err != nil {
		t.Fatal(err)
	}
	l, err := oplog.Open(data, api.LogOptions(key, logger))
	if err != nil {
		t.Fatal(err)
	}
	v, err := numbervault.New(l, vaultKey)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := mynumber.Parse("987654321018")
	if err := v.Put("R-000001", "onestop.a", "東京都世田谷区", n); err != nil {
		t.Fatal(err)
	}
	l.Close()
	os.Remove(vaultKeyPath("", data)) // the vault key lost: a new one would be made
	err = serve([]string{"-data", data, "-addr", "127.0.0.1:0"}, Build{Version: "test"}, logger)
	if err == nil || !strings.Contains(err.Error(), "does not open the individual numbers") || !strings.Contains(err.Error(), "-vault-key-file") {
		t.Fatalf("serve with another vault key: %v", err)
	}
}
