package fsm

import (
	"encoding/json"
	"time"
)

// AccessKey is an AK/SK pair for clients that sign their requests
// (SDK-HMAC-SHA256, as Huawei Cloud's SDKs do) instead of sending a token.
//
// Unlike a token's, the secret is stored as it is: a signature is an HMAC
// keyed with the secret, so the verifier needs the key itself, and a hash of
// it could neither recompute nor check one. This is how Consul keeps its
// token secrets and how every HMAC scheme (AWS SigV4, Huawei's APIG) keeps
// SKs. It means the Raft log and snapshots hold SKs: they are as sensitive
// as the management token, and the API shows a secret only once, when it is
// created.
type AccessKey struct {
	AccessKey   string    `json:"accessKey"`
	Secret      string    `json:"secret"`
	Description string    `json:"description"`
	Policy      Policy    `json:"policy"`
	CreatedAt   time.Time `json:"createdAt"`
	Limits
}

// DeleteAccessKey is the payload of CmdDeleteAccessKey.
type DeleteAccessKey struct {
	AccessKey string `json:"accessKey"`
}

// Sizes of a generated pair: Huawei's AKs are 20 uppercase letters and
// digits, its SKs 40 letters and digits.
const (
	AccessKeyIDLength     = 20
	AccessKeySecretLength = 40
	// minAccessKeySecret keeps a proposed SK guessable by no one: 32
	// alphanumerics are more than 190 bits.
	minAccessKeySecret = 32
	maxAccessKeyField  = 128
)

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	mixedAlnum = upperAlnum + "abcdefghijklmnopqrstuvwxyz"
)

// NewAccessKeyID is a random AK: 20 uppercase letters and digits.
func NewAccessKeyID() string { return randomFrom(upperAlnum, AccessKeyIDLength) }

// NewAccessKeySecret is a random SK: 40 letters and digits.
func NewAccessKeySecret() string { return randomFrom(mixedAlnum, AccessKeySecretLength) }

// randomFrom is n characters drawn uniformly from alphabet (rejection
// sampling: a plain modulo would favour the first letters).
func randomFrom(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	var b [1]byte
	for len(out) < n {
		random(b[:])
		if int(b[0]) < limit {
			out = append(out, alphabet[int(b[0])%len(alphabet)])
		}
	}
	return string(out)
}

// alnum reports whether s is only ASCII letters and digits: an AK is parsed
// out of an Authorization header and goes into URL paths.
func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// ValidateAccessKey checks an access key before it is created.
func ValidateAccessKey(k AccessKey) error {
	switch {
	case k.AccessKey == "" || len(k.AccessKey) > maxAccessKeyField || !alnum(k.AccessKey):
		return errorf(KindInvalid, "accesskey.create: accessKey must be 1 to %d letters and digits", maxAccessKeyField)
	case len(k.Secret) < minAccessKeySecret || len(k.Secret) > maxAccessKeyField:
		return errorf(KindInvalid, "accesskey.create: secret must be %d to %d bytes", minAccessKeySecret, maxAccessKeyField)
	case !k.Policy.Valid():
		return errorf(KindInvalid, "policy %q is not one of read, write, admin", k.Policy)
	case len(k.Description) > MaxTokenDescription:
		return errorf(KindInvalid, "description is longer than %d bytes", MaxTokenDescription)
	}
	return validateLimits(k.Limits)
}

func applyCreateAccessKey(s *state, cmd Command) (any, error) {
	var k AccessKey
	if err := json.Unmarshal(cmd.Payload, &k); err != nil {
		return nil, errorf(KindInvalid, "accesskey.create: %v", err)
	}
	if err := ValidateAccessKey(k); err != nil {
		return nil, err
	}
	if _, ok := s.accessKeys[k.AccessKey]; ok {
		return nil, errorf(KindConflict, "access key %q already exists", k.AccessKey)
	}
	k.CreatedAt = cmd.Time
	k.stamp(cmd.Time)
	s.accessKeys[k.AccessKey] = k
	return k, nil
}

func applyDeleteAccessKey(s *state, cmd Command) (any, error) {
	var p DeleteAccessKey
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "accesskey.delete: %v", err)
	}
	if _, ok := s.accessKeys[p.AccessKey]; !ok {
		return nil, errorf(KindNotFound, "access key %q not found", p.AccessKey)
	}
	delete(s.accessKeys, p.AccessKey)
	return nil, nil
}
