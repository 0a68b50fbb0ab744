package guard

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Blank names the fields of a JSON answer whose values are replaced by
// the empty string.
type Blank struct {
	// Keys are object members blanked at any depth (Nomad's and Consul's
	// SecretID: in a token object, a list of them, or Nomad's one-time
	// exchange answer {"Token": {...}}).
	Keys []string
	// At are member paths from the root object, or from each element of
	// a root array (Vault's auth.client_token).
	At [][]string
}

// ErrTooLarge is RewriteResponse's error for an answer over the cap: it is
// refused rather than passed on unchecked.
var ErrTooLarge = errors.New("the answer is too large to check for secrets")

// RewriteResponse blanks the secret fields d.Blank names in resp's body,
// for httputil.ReverseProxy.ModifyResponse. Without d.Blank it does
// nothing. Only successful (2xx) answers with a body are read: the
// servers' errors carry no token. The body is decoded when gzip (Nomad
// gzips every answer a client accepts gzip for, Consul those over 1400
// bytes: measured), read up to the cap (ErrTooLarge beyond: the answer
// is refused, never passed on unread), must be one JSON value, and goes
// back re-encoded without Content-Encoding and with its new length. An
// error means the answer must not reach the client.
func (d Decision) RewriteResponse(resp *http.Response) error {
	if d.Blank == nil || resp == nil {
		return nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 || resp.StatusCode == http.StatusNoContent ||
		resp.Body == nil || resp.Body == http.NoBody || (resp.Request != nil && resp.Request.Method == http.MethodHead) {
		return nil
	}
	max := d.max
	if max <= 0 {
		max = DefaultMaxRewrite
	}
	body, err := ReadAnswer(resp, max)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return setBody(resp, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err == nil && mt != "application/json" && !strings.HasSuffix(mt, "+json") && mt != "text/plain" {
			return fmt.Errorf("could not check an answer of type %q", mt)
		}
	}
	out, err := d.Blank.apply(body)
	if err != nil {
		return err
	}
	return setBody(resp, out)
}

func setBody(resp *http.Response, body []byte) error {
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.TransferEncoding = nil
	resp.Header.Del("Content-Encoding")
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	resp.Uncompressed = false
	return nil
}

// apply returns body with the fields blanked: one JSON value, numbers
// kept as written, no HTML escaping added.
func (b *Blank) apply(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("could not check the answer: not JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("could not check the answer: more than one JSON value")
	}
	v = b.walk(v)
	for _, path := range b.At {
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				blankAt(e, path)
			}
		} else {
			blankAt(v, path)
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("could not write the checked answer: %w", err)
	}
	return out.Bytes(), nil
}

// walk blanks b.Keys at any depth.
func (b *Blank) walk(v any) any {
	if len(b.Keys) == 0 {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if isKey(k, b.Keys) {
				if e != nil {
					x[k] = ""
				}
				continue
			}
			x[k] = b.walk(e)
		}
	case []any:
		for i, e := range x {
			x[i] = b.walk(e)
		}
	}
	return v
}

// isKey: Go's encoding/json, which the servers' answers are read with,
// matches member names case-insensitively, so a client would read
// "secretid" as SecretID: blank every spelling.
func isKey(k string, keys []string) bool {
	for _, want := range keys {
		if strings.EqualFold(k, want) {
			return true
		}
	}
	return false
}

func blankAt(v any, path []string) {
	for i, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		// Every spelling of the member, for the same reason as isKey.
		for mk, e := range m {
			if !strings.EqualFold(mk, k) {
				continue
			}
			if i == len(path)-1 {
				if e != nil {
					m[mk] = ""
				}
				continue
			}
			blankAt(e, path[i+1:])
		}
		return
	}
}

// ReadAnswer reads and closes resp's body, decoding gzip, and returns it
// whole; an answer over max bytes (decoded) is ErrTooLarge, another
// encoding an error. The agent's rewrites of answers all read through it.
func ReadAnswer(resp *http.Response, max int64) ([]byte, error) {
	orig := resp.Body
	defer orig.Close()
	var src io.Reader = orig
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(orig)
		if err != nil {
			return nil, fmt.Errorf("could not read the gzip answer: %w", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, fmt.Errorf("could not check an answer in encoding %q", enc)
	}
	body, err := io.ReadAll(io.LimitReader(src, max+1))
	if err != nil {
		return nil, fmt.Errorf("could not read the answer: %w", err)
	}
	if int64(len(body)) > max {
		return nil, ErrTooLarge
	}
	return body, nil
}
