//go:build !linux

package store

import "os"

// newContentWriter writes a content being staged from off, through the page
// cache (O_DIRECT is used on Linux only).
func newContentWriter(f *os.File, off, _ int64) contentWriter { return newWriteBehind(f, off) }
