package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"smartpass.city/smartpass/server/api"
	"smartpass.city/smartpass/server/directory"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/pgstore"
	"smartpass.city/smartpass/server/sealed"
	"smartpass.city/smartpass/server/store"
)

// keyPath is where the store's key lives when -key-file is not given: next
// to the data directory, never inside it, so a copy of the data alone is
// unreadable. Production keeps it on another volume or in a secret store.
func keyPath(flagValue, data string) string {
	if flagValue != "" {
		return flagValue
	}
	return filepath.Clean(data) + ".key"
}

// adminSocket is the unix socket through which `server backup` reaches a
// running server: only the data directory's owner can use it, who could
// read the store's files anyway.
func adminSocket(data string) string { return filepath.Clean(data) + ".sock" }

// loadKey reads the 32-byte key (64 hex digits) from path. For a data
// directory without a store yet, create makes a new key there.
func loadKey(path, data string, create bool, logger *slog.Logger) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create && !hasStore(data) {
		key, err := newKeyFile(path)
		if err != nil {
			return nil, err
		}
		logger.Warn("created a new encryption key for the store: keep it apart from the data and back it up; without it the data cannot be read", "key_file", path)
		return key, nil
	}
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("the encryption key file %s is missing (the store in %s cannot be read without it; give -key-file)", path, data)
	}
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("the key file %s must hold 64 hexadecimal digits (a 32-byte key)", path)
	}
	return key, nil
}

// newKeyFile writes a new random 32-byte key to path (64 hex digits,
// readable by the owner only) and returns it.
func newKeyFile(path string) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("create key file %s: %w", path, err)
	}
	return key, nil
}

func hasStore(data string) bool {
	_, err := os.Stat(filepath.Join(data, "MANIFEST"))
	return err == nil
}

func listenAdmin(data string) (net.Listener, error) {
	path := adminSocket(data)
	os.Remove(path) // stale: Badger's lock guarantees we own the store
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	return ln, nil
}

func writeBackup(w io.Writer, log store.Store, key []byte) error {
	sw, err := sealed.NewWriter(w, key)
	if err != nil {
		return err
	}
	if err := log.Backup(sw); err != nil {
		return err
	}
	return sw.Close()
}

// runBackup is `server backup`: a sealed copy of the store, taken from the
// running server through its admin socket, or from the directory when no
// server runs. The file appears only once it is complete and verified.
func runBackup(args []string, logger *slog.Logger) error {
	fs := newFlags("backup")
	data := fs.String("data", "./data", "data directory of the store")
	out := fs.String("out", "", "backup file to write")
	keyFile := fs.String("key-file", "", "the store's key file (default: DATA.key)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("backup: give -out FILE")
	}
	key, err := loadKey(keyPath(*keyFile, *data), *data, false, logger)
	if err != nil {
		return err
	}
	tmp := *out + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp)
	if conn, err := net.Dial("unix", adminSocket(*data)); err == nil {
		defer conn.Close()
		fmt.Fprintln(conn, "backup")
		_, err = io.Copy(f, conn)
		if err != nil {
			return fmt.Errorf("backup from the running server: %w", err)
		}
	} else {
		log, err := oplog.Open(*data, oplog.Options{Key: key})
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		err = writeBackup(f, log, key)
		log.Close()
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f.Close()
	if err := verifyBackup(tmp, key); err != nil {
		return fmt.Errorf("backup: the copy is not complete, nothing was written to %s: %w", *out, err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	st, _ := os.Stat(*out)
	fmt.Printf("backup written: %s (%d bytes, encrypted)\n", *out, st.Size())
	return nil
}

func openBackup(path string, key []byte) (*os.File, io.Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	r, err := sealed.NewReader(f, key)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, r, nil
}

func verifyBackup(path string, key []byte) error {
	f, r, err := openBackup(path, key)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, r)
	return err
}

// runRestore is `server restore`: a new store from a backup file, with a
// new epoch.
func runRestore(args []string, logger *slog.Logger) error {
	fs := newFlags("restore")
	data := fs.String("data", "", "new, empty data directory to restore into")
	in := fs.String("in", "", "backup file to read")
	keyFile := fs.String("key-file", "", "key file the backup was made with; the restored store uses it too (default: DATA.key)")
	storeURL := fs.String("store", "", "a PostgreSQL cluster just restored by its own tools (base backup and WAL): give its tenant a new epoch")
	tenant := fs.String("tenant", "", "with -store: the municipality whose epoch to renew")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *storeURL != "" {
		// PostgreSQL restores itself; what the server adds is the new
		// epoch, so devices resend what the restored cluster lacks.
		if err := pgstore.NewEpoch(context.Background(), *storeURL, *tenant); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		fmt.Printf("tenant %s has a new epoch; devices will resend what the restored cluster lacked\n", *tenant)
		return nil
	}
	if *data == "" || *in == "" {
		return errors.New("restore: give -data DIR and -in FILE")
	}
	key, err := loadKey(keyPath(*keyFile, *data), *data, false, logger)
	if err != nil {
		return err
	}
	// Check the whole file first: a damaged backup must not leave a
	// half-restored store behind.
	if err := verifyBackup(*in, key); err != nil {
		return fmt.Errorf("restore: cannot use %s: %w", *in, err)
	}
	f, r, err := openBackup(*in, key)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	if err := oplog.Restore(*data, r, oplog.Options{Key: key, Logger: logger}); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Printf("restored %s into %s with a new epoch; devices will resend what the old server lacked\n", *in, *data)
	return nil
}

// OpenStore opens the existing store in data with its key (keyFile, or
// DATA.key), as the server opens it, while no server runs on it.
func OpenStore(data, keyFile string, logger *slog.Logger) (store.Store, error) {
	key, err := loadKey(keyPath(keyFile, data), data, false, logger)
	if err != nil {
		return nil, err
	}
	return oplog.Open(data, api.LogOptions(key, nil))
}

// openEngine opens the store the flags name: Badger in the data directory
// (the default, for one city on one machine), or the tenant's on
// PostgreSQL (-store postgres://… -tenant NAME), which several server
// processes may serve at once.
func openEngine(ctx context.Context, c config, key []byte, logger *slog.Logger) (store.Store, error) {
	opt := api.LogOptions(key, logger)
	if c.storeURL == "" {
		if c.tenant != "" {
			return nil, errors.New("-tenant needs -store postgres://…: a Badger store holds one municipality")
		}
		log, err := oplog.Open(c.data, opt)
		if errors.Is(err, oplog.ErrWrongKey) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("cannot use the data directory %q (is it writable, and not used by another server?): %w", c.data, err)
		}
		return log, nil
	}
	if !strings.HasPrefix(c.storeURL, "postgres://") && !strings.HasPrefix(c.storeURL, "postgresql://") {
		return nil, errors.New("-store takes a PostgreSQL URL, postgres://…")
	}
	if !directory.ValidTenant(c.tenant) {
		return nil, fmt.Errorf("-store needs -tenant: the municipality's name, lower-case letters, digits, - and _ (got %q)", c.tenant)
	}
	s, err := pgstore.Open(ctx, c.storeURL, pgstore.Options{
		Tenant: c.tenant, Key: opt.Key, Feeds: opt.Feeds, Erasure: opt.Erasure, Logger: opt.Logger,
	})
	if errors.Is(err, pgstore.ErrWrongKey) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open tenant %s on PostgreSQL: %w", c.tenant, err)
	}
	return s, nil
}

// storeName says where the store is, for messages: never the URL, which
// may hold a password.
func (c config) storeName() string {
	if c.directory != "" {
		return "the municipalities of " + c.directory
	}
	if c.storeURL == "" {
		return c.data
	}
	return "PostgreSQL, tenant " + c.tenant
}
