package store

import (
	"os"
	"syscall"
)

// startWriteback asks Linux to begin writing a range to disk without waiting
// (sync_file_range with SYNC_FILE_RANGE_WRITE). Durability still comes from
// the fsync before the rename; this only moves the disk work earlier.
func startWriteback(f *os.File, off, n int64) {
	const syncFileRangeWrite = 0x2
	_ = syscall.SyncFileRange(int(f.Fd()), off, n, syncFileRangeWrite)
}
