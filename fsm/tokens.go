package fsm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Policy is what a token may do. Each level includes the ones below it.
type Policy string

const (
	PolicyRead  Policy = "read"
	PolicyWrite Policy = "write"
	PolicyAdmin Policy = "admin"
)

func (p Policy) rank() int {
	switch p {
	case PolicyRead:
		return 1
	case PolicyWrite:
		return 2
	case PolicyAdmin:
		return 3
	}
	return 0
}

// Valid reports whether p is one of the known policies.
func (p Policy) Valid() bool { return p.rank() > 0 }

// Allows reports whether a token with policy p may do what needs policy need.
func (p Policy) Allows(need Policy) bool { return p.rank() >= need.rank() && p.Valid() }

// Token is an API token. The secret itself is never stored: only its SHA-256,
// which is enough because secrets are 256 random bits.
type Token struct {
	AccessorID  string    `json:"accessorId"`
	SecretHash  string    `json:"secretHash"`
	Description string    `json:"description"`
	Policy      Policy    `json:"policy"`
	CreateTime  time.Time `json:"createTime"`
	Limits
}

// DeleteToken is the payload of CmdDeleteToken.
type DeleteToken struct {
	AccessorID string `json:"accessorId"`
}

// HashSecret is how a token secret is stored and looked up.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// MaxTokenDescription bounds a token's description, in bytes.
const MaxTokenDescription = 256

// ValidateToken checks a token before it is created.
func ValidateToken(t Token) error {
	switch {
	case t.AccessorID == "":
		return errorf(KindInvalid, "token.create: accessorId is required")
	case len(t.SecretHash) != sha256.Size*2:
		return errorf(KindInvalid, "token.create: secretHash must be a hex SHA-256")
	case !t.Policy.Valid():
		return errorf(KindInvalid, "policy %q is not one of read, write, admin", t.Policy)
	case len(t.Description) > MaxTokenDescription:
		return errorf(KindInvalid, "description is longer than %d bytes", MaxTokenDescription)
	}
	return validateLimits(t.Limits)
}

func applyCreateToken(s *state, cmd Command) (any, error) {
	var t Token
	if err := json.Unmarshal(cmd.Payload, &t); err != nil {
		return nil, errorf(KindInvalid, "token.create: %v", err)
	}
	if err := ValidateToken(t); err != nil {
		return nil, err
	}
	if _, ok := s.tokens[t.AccessorID]; ok {
		return nil, errorf(KindConflict, "token %q already exists", t.AccessorID)
	}
	if _, ok := s.tokensByHash[t.SecretHash]; ok {
		return nil, errorf(KindConflict, "a token with that secret already exists")
	}
	t.CreateTime = cmd.Time
	t.stamp(cmd.Time)
	s.tokens[t.AccessorID] = t
	s.tokensByHash[t.SecretHash] = t.AccessorID
	return t, nil
}

func applyDeleteToken(s *state, cmd Command) (any, error) {
	var p DeleteToken
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "token.delete: %v", err)
	}
	t, ok := s.tokens[p.AccessorID]
	if !ok {
		return nil, errorf(KindNotFound, "token %q not found", p.AccessorID)
	}
	delete(s.tokens, p.AccessorID)
	delete(s.tokensByHash, t.SecretHash)
	return nil, nil
}
