package store

// dropEmpty drops the empty buffers at the head of bufs.
func dropEmpty(bufs [][]byte) [][]byte {
	for len(bufs) > 0 && len(bufs[0]) == 0 {
		bufs = bufs[1:]
	}
	return bufs
}

// advance drops the first n bytes of bufs: the buffers wholly written, and
// the written part of the one a short write stopped in (changing bufs'
// element in place: the caller's slice, not the contents).
func advance(bufs [][]byte, n int) [][]byte {
	for n > 0 && len(bufs) > 0 {
		if n < len(bufs[0]) {
			bufs[0] = bufs[0][n:]
			return bufs
		}
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	return bufs
}
