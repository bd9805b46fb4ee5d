package fsutil

import "os"

// SyncDir makes a file created or renamed in dir durable: the directory
// entry is only on disk once the directory itself is synced.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
