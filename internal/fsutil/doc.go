// Package fsutil owns the file-system steps that make a write durable,
// shared by the store and the certificate files of tlsutil.
package fsutil
