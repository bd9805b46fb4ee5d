package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// AccessKey is an AK/SK pair for SDK-HMAC-SHA256 signing; SecretKey is
// only set when it was just created.
type AccessKey struct {
	AccessKey   string    `json:"accessKey"`
	SecretKey   string    `json:"secretKey,omitempty"`
	Description string    `json:"description"`
	Policy      string    `json:"policy"`
	CreatedAt   time.Time `json:"createdAt"`
	Limits
}

// CreateAccessKey creates an access key; the answer holds its secret key,
// shown only once.
func (c *Client) CreateAccessKey(ctx context.Context, req CredentialRequest) (AccessKey, error) {
	var out AccessKey
	_, err := c.do(ctx, http.MethodPost, "/v1/acl/access-keys", req, &out)
	return out, err
}

// AccessKeys lists access keys (without secret keys).
func (c *Client) AccessKeys(ctx context.Context) ([]AccessKey, error) {
	var out []AccessKey
	_, err := c.do(ctx, http.MethodGet, "/v1/acl/access-keys", nil, &out)
	return out, err
}

// DeleteAccessKey deletes an access key.
func (c *Client) DeleteAccessKey(ctx context.Context, accessKey string) error {
	_, err := c.do(ctx, http.MethodDelete, "/v1/acl/access-keys/"+url.PathEscape(accessKey), nil, nil)
	return err
}
