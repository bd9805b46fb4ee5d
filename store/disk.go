package store

import (
	"errors"
	"fmt"
	"github.com/ferrysync/ferry/internal/fsutil"
	"os"
	"path/filepath"
	"syscall"
)

// diskError makes a full disk or quota ErrInsufficientSpace, for callers to
// tell apart (507 for HTTP).
func diskError(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %v", ErrInsufficientSpace, err)
	}
	return err
}

// makeBlobDir creates blobs/sha256/ab/cd as needed, fsyncing the parent of
// every directory it creates so the new entries survive a power loss.
func (s *Local) makeBlobDir(dir string) error {
	mid := filepath.Dir(dir)
	for _, d := range []string{mid, dir} {
		if _, err := os.Stat(d); err == nil {
			continue
		}
		if err := os.Mkdir(d, 0o750); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

// syncDir is fsutil.SyncDir, under the name the store's files use.
var syncDir = fsutil.SyncDir
