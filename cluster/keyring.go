package cluster

import (
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/hashicorp/memberlist"
)

// ErrNoKeyring: gossip runs without --encrypt, so there is no key to
// rotate (memberlist only takes a keyring at start).
var ErrNoKeyring = errors.New("gossip is not encrypted (the agent runs without --encrypt): there is no keyring to rotate")

// KeyringOp is one change of this agent's gossip keyring.
type KeyringOp string

const (
	KeyInstall KeyringOp = "install" // add a key, accepted for reading
	KeyUse     KeyringOp = "use"     // make an installed key the one that encrypts
	KeyRemove  KeyringOp = "remove"  // forget a key that is not the primary
)

// LocalKeys is this agent's keyring, keys in base64.
type LocalKeys struct {
	Keys    []string `json:"keys"`
	Primary string   `json:"primary"`
}

// newKeyring is memberlist's keyring for key; nil without one.
func newKeyring(key []byte) (*memberlist.Keyring, error) {
	if key == nil {
		return nil, nil
	}
	return memberlist.NewKeyring(nil, key)
}

// Keys lists this agent's gossip keys.
func (n *Node) Keys() (LocalKeys, error) {
	if n.keyring == nil {
		return LocalKeys{}, ErrNoKeyring
	}
	var out LocalKeys
	for _, k := range n.keyring.GetKeys() {
		out.Keys = append(out.Keys, base64.StdEncoding.EncodeToString(k))
	}
	out.Primary = base64.StdEncoding.EncodeToString(n.keyring.GetPrimaryKey())
	return out, nil
}

// ChangeKeyring applies op with key (base64) to this agent's keyring only;
// a group-wide rotation applies it on every agent (agent/keyring.go).
func (n *Node) ChangeKeyring(op KeyringOp, key string) error {
	if n.keyring == nil {
		return ErrNoKeyring
	}
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return &KeyError{fmt.Errorf("key is not base64: %w", err)}
	}
	switch op {
	case KeyInstall:
		err = n.keyring.AddKey(k)
	case KeyUse:
		err = n.keyring.UseKey(k)
	case KeyRemove:
		err = n.keyring.RemoveKey(k)
	default:
		err = fmt.Errorf("unknown keyring operation %q", op)
	}
	if err != nil {
		return &KeyError{err}
	}
	return nil
}

// KeyError is a keyring change refused for its key (bad length, not
// installed, the primary removed).
type KeyError struct{ Err error }

func (e *KeyError) Error() string { return "gossip keyring: " + e.Err.Error() }
func (e *KeyError) Unwrap() error { return e.Err }
