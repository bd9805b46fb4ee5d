package tlsutil

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ferrysync/ferry/internal/fsutil"
)

// WriteNew writes data to path atomically (a temporary file in the same
// directory, fsynced, then renamed) and refuses to replace an existing file:
// overwriting a CA key would orphan every certificate it signed.
func WriteNew(path string, data []byte, perm os.FileMode) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists; not overwriting it", path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return fsutil.SyncDir(filepath.Dir(path))
}

// WritePair writes p as certPath (0644) and keyPath (0600), key first so
// that a certificate on disk always has its key.
func WritePair(p PEMPair, certPath, keyPath string) error {
	for _, f := range []string{certPath, keyPath} {
		if _, err := os.Lstat(f); err == nil {
			return fmt.Errorf("%s already exists; not overwriting it", f)
		}
	}
	if err := WriteNew(keyPath, p.Key, 0o600); err != nil {
		return err
	}
	return WriteNew(certPath, p.Cert, 0o644)
}

// ReadPair reads a certificate and key written by WritePair.
func ReadPair(certPath, keyPath string) (PEMPair, error) {
	cert, err := os.ReadFile(certPath)
	if err != nil {
		return PEMPair{}, err
	}
	key, err := os.ReadFile(keyPath)
	if err != nil {
		return PEMPair{}, err
	}
	return PEMPair{Cert: cert, Key: key}, nil
}
