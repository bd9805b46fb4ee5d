package client

import (
	"context"
	"net/http"
	"time"
)

// Token is an API token; Secret is only set when it was just created.
type Token struct {
	AccessorID  string    `json:"accessorId"`
	Secret      string    `json:"secret,omitempty"`
	Description string    `json:"description"`
	Policy      string    `json:"policy"`
	CreateTime  time.Time `json:"createTime"`
}

// CreateToken creates a token; the answer holds its secret, shown only once.
func (c *Client) CreateToken(ctx context.Context, description, policy string) (Token, error) {
	var out Token
	_, err := c.do(ctx, http.MethodPost, "/v1/acl/tokens", map[string]string{"description": description, "policy": policy}, &out)
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
	_, err := c.do(ctx, http.MethodDelete, "/v1/acl/tokens/"+accessorID, nil, nil)
	return err
}
