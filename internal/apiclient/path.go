package apiclient

import (
	"net/url"
	"strings"
)

// EscapePath escapes each slash-separated segment of p for a URL path,
// keeping the slashes: lease ids, mount paths and KV paths from servers
// or users.
func EscapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
