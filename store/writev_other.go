//go:build !linux

package store

import "os"

// writeAtv writes bufs one after another from off, one WriteAt each where
// pwritev(2) is not used.
func writeAtv(f *os.File, bufs [][]byte, off int64) error {
	for _, b := range bufs {
		if _, err := f.WriteAt(b, off); err != nil {
			return err
		}
		off += int64(len(b))
	}
	return nil
}
