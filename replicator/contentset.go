package replicator

import "sync"

// contentSet is a set of sha256 sums, safe for concurrent use, held as 32
// bytes each (a third of a sync.Map of hex strings).
type contentSet struct {
	mu   sync.Mutex
	sums map[[32]byte]struct{}
}

func (s *contentSet) add(sha256hex string) {
	k, ok := sumKey(sha256hex)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sums == nil {
		s.sums = map[[32]byte]struct{}{}
	}
	s.sums[k] = struct{}{}
}

func (s *contentSet) has(sha256hex string) bool {
	k, ok := sumKey(sha256hex)
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, in := s.sums[k]
	return in
}

// reset empties the set.
func (s *contentSet) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sums = nil
}

// sumKey is a hex sha256's 32 bytes; a malformed sum is in no set.
func sumKey(sha256hex string) (k [32]byte, ok bool) {
	if len(sha256hex) != 64 {
		return k, false
	}
	for i := range k {
		hi, ok1 := fromHex(sha256hex[2*i])
		lo, ok2 := fromHex(sha256hex[2*i+1])
		if !ok1 || !ok2 {
			return k, false
		}
		k[i] = hi<<4 | lo
	}
	return k, true
}

// fromHex is one hex digit's value (as encoding/hex, without copying the
// string to decode it).
func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
