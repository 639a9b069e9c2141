package cli

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// vaultKeyPath is where the individual-number vault's key lives when
// -vault-key-file is not given: beside the store's key, outside the data
// directory, and a file of its own, so that the store's key (which
// opens a backup) opens no number.
func vaultKeyPath(flagValue, data string) string {
	if flagValue != "" {
		return flagValue
	}
	return filepath.Clean(data) + ".vault.key"
}

// loadVaultKey reads the vault's key from path, making one when there is
// none yet (a store from before the vault, or a new one: the server
// checks at start that the key opens what the vault holds). A key equal
// to the store's is refused: the vault would be no safer than the store.
func loadVaultKey(path, data string, storeKey []byte, logger *slog.Logger) ([]byte, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if _, err := newKeyFile(path); err != nil {
			return nil, err
		}
		logger.Warn("created a new key for the individual-number vault: keep it apart from the data and the store's key; without it no one-stop application can be exported", "key_file", path)
	}
	key, err := loadKey(path, data, false, logger)
	if err != nil {
		return nil, fmt.Errorf("the vault key: %w", err)
	}
	if bytes.Equal(key, storeKey) {
		return nil, fmt.Errorf("the vault key in %s is the store's key: give the individual-number vault a key of its own (-vault-key-file)", path)
	}
	return key, nil
}
