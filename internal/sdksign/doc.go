// Package sdksign verifies (and makes) requests signed the way Huawei
// Cloud's SDKs sign them: Authorization: SDK-HMAC-SHA256 with an access key
// (AK) and an HMAC-SHA256, keyed with the secret key (SK), of a canonical
// form of the request and its X-Sdk-Date (the contract's §2.4, which
// matches the Go SDK's core/auth/signer).
//
// A request whose body is not hashed in X-Sdk-Content-Sha256 is read into
// memory to be hashed, up to MaxHashedBody; a larger one is refused, since a
// verifier that buffered any size would let anyone with a network path make
// the agent hold a body of any size before the signature is checked. The
// SDK only sends JSON bodies, far below the bound. With the header, the body
// is not read before the handler: it is hashed as the handler reads it and a
// mismatch fails the last read, so a streamed upload is never accepted
// whole with the wrong content (UNSIGNED-PAYLOAD, which the SDK sends for
// non-JSON bodies, leaves the body unchecked, as the signer asked).
package sdksign
