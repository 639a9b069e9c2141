package cli

import (
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
