package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/alisw/alilogin/internal/agent/guard"
)

// What the web UIs need changed on their way through the agent. Consul's
// UI needs nothing. Nomad's UI (v1.6.1, ui/app) has two habits that
// bypass the token the agent puts in:
//
//   - its exec terminal (services/sockets.js) opens the websocket with
//     ws_handshake=true and then sends {"version":1,"auth_token":...}
//     with the token of its local storage, which Nomad uses instead of
//     the request's X-Nomad-Token (readWsHandshake, alloc_endpoint.go).
//     The agent drops the parameter: Nomad then takes the header, and
//     reads the handshake message as an exec input with no field it
//     knows, which does nothing.
//   - its log viewer (components/task-log.js) first streams logs
//     straight from the client node's HTTPAddr (//HTTPAddr/v1/client/
//     fs/logs/...), falling back to the server after a second. The agent
//     rewrites HTTPAddr in the node answers it relays to the session's
//     own host, so the logs come through the agent, with the session, at
//     once: the node's real address, which requires a client
//     certificate the browser does not have, is never tried.

// browserRewrite is the route's rewrite of the requests of the browser
// session at host (its own host name, nomad-LABEL.localhost:PORT).
func (rt *route) browserRewrite(host string) *browserRewrite {
	if rt.kind != Nomad {
		return nil
	}
	return &browserRewrite{
		request: func(out *http.Request) {
			if isNomadExec(out.URL.Path) {
				if q := out.URL.Query(); q.Has("ws_handshake") {
					q.Del("ws_handshake")
					out.URL.RawQuery = q.Encode()
				}
			}
			if isNomadNode(out.Method, out.URL.Path) {
				out.Header.Del("Accept-Encoding") // the answer is read
			}
		},
		response: func(resp *http.Response) error {
			if resp.Request == nil || !isNomadNode(resp.Request.Method, resp.Request.URL.Path) {
				return nil
			}
			return rewriteJSON(resp, func(v any) { setHTTPAddr(v, host) })
		},
	}
}

// isNomadExec: path is an allocation's exec websocket.
func isNomadExec(path string) bool {
	return strings.HasPrefix(path, "/v1/client/allocation/") && strings.HasSuffix(path, "/exec")
}

// isNomadNode: GET /v1/node/<id>, the one answer with HTTPAddr.
func isNomadNode(method, path string) bool {
	id, ok := strings.CutPrefix(path, "/v1/node/")
	return ok && method == http.MethodGet && id != "" && !strings.Contains(id, "/")
}

// setHTTPAddr sets every HTTPAddr member of v to host.
func setHTTPAddr(v any, host string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.EqualFold(k, "HTTPAddr") {
				if _, ok := e.(string); ok {
					x[k] = host
				}
				continue
			}
			setHTTPAddr(e, host)
		}
	case []any:
		for _, e := range x {
			setHTTPAddr(e, host)
		}
	}
}

// maxUIRewrite caps an answer the UI rewrite reads.
const maxUIRewrite = 8 << 20

// rewriteJSON applies f to resp's JSON body (2xx only; gzip decoded) and
// sets the new body.
func rewriteJSON(resp *http.Response, f func(any)) error {
	if resp.StatusCode < 200 || resp.StatusCode > 299 || resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	body, err := guard.ReadAnswer(resp, maxUIRewrite)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return errors.New("could not rewrite the answer: not JSON")
	}
	f(v)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("could not write the rewritten answer: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(out.Bytes()))
	resp.ContentLength = int64(out.Len())
	resp.TransferEncoding = nil
	resp.Header.Del("Content-Encoding")
	resp.Header.Set("Content-Length", strconv.Itoa(out.Len()))
	resp.Uncompressed = false
	return nil
}
