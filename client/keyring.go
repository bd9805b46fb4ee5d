package client

import (
	"context"
	"net/http"
)

// KeyringMember is one member's gossip keyring, or why it could not be
// read or changed.
type KeyringMember struct {
	ID      string   `json:"id"`
	Keys    []string `json:"keys"`
	Primary string   `json:"primary"`
	Error   string   `json:"error,omitempty"`
}

// Keyring is the group's gossip keys, each with how many members hold it.
type Keyring struct {
	Keys        map[string]int  `json:"keys"`
	PrimaryKeys map[string]int  `json:"primaryKeys"`
	NumMembers  int             `json:"numMembers"`
	Members     []KeyringMember `json:"members"`
}

// KeyringOp calls /v1/operator/keyring: GET lists, POST installs, PUT
// uses, DELETE removes key (base64) on every alive member.
func (c *Client) KeyringOp(ctx context.Context, method, key string) (Keyring, error) {
	var in any
	if method != http.MethodGet {
		in = map[string]string{"key": key}
	}
	var out Keyring
	_, err := c.do(ctx, method, "/v1/operator/keyring", in, &out)
	return out, err
}
