package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// CredentialRequest creates a token or an access key. Projects limit it to
// those projects (none: all); ExpirationTTL ("24h") makes it expire (none:
// never).
type CredentialRequest struct {
	Description   string   `json:"description,omitempty"`
	Policy        string   `json:"policy"`
	Projects      []string `json:"projects,omitempty"`
	ExpirationTTL string   `json:"expirationTTL,omitempty"`
}

// Limits are a credential's limits as the agent shows them.
type Limits struct {
	Projects       []string  `json:"projects,omitempty"`
	ExpirationTTL  string    `json:"expirationTTL,omitempty"`
	ExpirationTime time.Time `json:"expirationTime,omitzero"`
}

// Token is an API token; Secret is only set when it was just created.
type Token struct {
	AccessorID  string    `json:"accessorId"`
	Secret      string    `json:"secret,omitempty"`
	Description string    `json:"description"`
	Policy      string    `json:"policy"`
	CreateTime  time.Time `json:"createTime"`
	Limits
}

// CreateToken creates a token; the answer holds its secret, shown only once.
func (c *Client) CreateToken(ctx context.Context, req CredentialRequest) (Token, error) {
	var out Token
	_, err := c.do(ctx, http.MethodPost, "/v1/acl/tokens", req, &out)
	return out, err
}

// Tokens lists tokens (without secrets).
func (c *Client) Tokens(ctx context.Context) ([]Token, error) {
	var out []Token
	_, err := c.do(ctx, http.MethodGet, "/v1/acl/tokens", nil, &out)
	return out, err
}

// DeleteToken deletes a token by accessor id.
func (c *Client) DeleteToken(ctx context.Context, accessorID string) error {
	_, err := c.do(ctx, http.MethodDelete, "/v1/acl/tokens/"+url.PathEscape(accessorID), nil, nil)
	return err
}
