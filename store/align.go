package store

import "unsafe"

// alignOf is the address of b's first byte, for aligning buffers.
func alignOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
