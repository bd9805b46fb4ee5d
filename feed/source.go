package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// errNoFeed is Pulp's error for a sync without a feed.
var errNoFeed = errors.New("Repository without feed cannot be synchronized")

// source is where a feed's files are: an http(s) base URL, or a directory
// for a file:// feed.
type source struct {
	base   *url.URL // ends in "/"; no credentials
	dir    string   // a file:// feed's directory, else ""
	client *http.Client
	user   string
	pass   string
}

// newSource reads the feed URL as Pulp does: a "/" is appended when the
// path does not end in one, and credentials written into the URL are moved
// to basic auth (URL-unquoted), in place of those of the options.
func newSource(opt Options) (*source, error) {
	if opt.Feed == "" {
		return nil, errNoFeed
	}
	u, err := url.Parse(opt.Feed)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text would repeat the URL, password and all
		}
		return nil, fmt.Errorf("The feed is not a valid URL: %v.", err)
	}
	s := &source{client: opt.Client, user: opt.BasicAuthUser, pass: opt.BasicAuthPassword}
	if s.client == nil {
		s.client = &http.Client{}
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		u.User = nil
	}
	if u.Opaque != "" {
		return nil, fmt.Errorf("The feed %s is not an absolute URL.", u.Redacted())
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("The feed %s has no host.", u)
		}
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("The feed %s names a host; a file feed is a directory of this machine.", u)
		}
		s.dir = filepath.FromSlash(u.Path)
	default:
		return nil, fmt.Errorf("The feed %s is not an http, https or file URL.", u)
	}
	s.base = u
	return s, nil
}

// url is urljoin(feed, name), with name's bytes escaped as a path: "?",
// "#" and "%" in a name are part of the file's name. (Python's urljoin
// would have read them as a query, a fragment and an escape.)
func (s *source) url(name string) string {
	return s.base.ResolveReference(&url.URL{Path: name}).String()
}

// statusError is a final HTTP status other than 200 (or 206 for a range).
type statusError struct {
	url    string
	code   int
	status string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("Failed to download %s: HTTP %s.", e.url, e.status)
}

// open returns the file name of the feed from offset off on, and the offset
// its content really starts at: 0 when the server sent the whole file for a
// range it would not serve. Any final status other than 200 (or, for a
// range, 206 from off) is an error; redirects are followed.
func (s *source) open(ctx context.Context, name string, off int64) (io.ReadCloser, int64, error) {
	at := s.url(name)
	if s.dir != "" {
		f, err := os.Open(filepath.Join(s.dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, 0, fmt.Errorf("Failed to download %s: %v.", at, pathError(err))
		}
		if off > 0 {
			if _, err := f.Seek(off, io.SeekStart); err != nil {
				f.Close()
				return nil, 0, fmt.Errorf("Failed to download %s: %v.", at, pathError(err))
			}
		}
		return f, off, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, at, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("Failed to download %s: %v.", at, err)
	}
	if s.user != "" || s.pass != "" {
		req.SetBasicAuth(s.user, s.pass)
	}
	if off > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, 0, fmt.Errorf("Failed to download %s: %v.", at, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return resp.Body, 0, nil
	case off > 0 && resp.StatusCode == http.StatusPartialContent && rangeStart(resp.Header.Get("Content-Range")) == off:
		return resp.Body, off, nil
	}
	resp.Body.Close()
	return nil, 0, &statusError{url: at, code: resp.StatusCode, status: resp.Status}
}

// rangeStart is the first byte of a Content-Range "bytes a-b/n", -1 when
// there is none.
func rangeStart(cr string) int64 {
	rest, ok := strings.CutPrefix(cr, "bytes ")
	if !ok {
		return -1
	}
	first, _, ok := strings.Cut(rest, "-")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// pathError is err without its operation and path, which the URL in the
// message already says.
func pathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
