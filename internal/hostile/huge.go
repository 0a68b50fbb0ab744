package hostile

import (
	"net/http"
	"strconv"
	"sync/atomic"
)

// Huge is a handler that answers with Status and a body of Prefix followed
// by Size bytes of 'A' (Size < 0: without end, until the client stops
// reading). With ContentLength the length is announced in the header (only
// when Size >= 0). Sent counts the body bytes written, so that a test can
// show that the client stopped early.
type Huge struct {
	Status        int // 0: 200
	ContentType   string
	Prefix        string
	Size          int64
	ContentLength bool

	sent atomic.Int64
}

// Sent is how many body bytes were written so far.
func (h *Huge) Sent() int64 { return h.sent.Load() }

func (h *Huge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.ContentType != "" {
		w.Header().Set("Content-Type", h.ContentType)
	}
	if h.ContentLength && h.Size >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(int64(len(h.Prefix))+h.Size, 10))
	}
	status := h.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	n, err := w.Write([]byte(h.Prefix))
	h.sent.Add(int64(n))
	if err != nil {
		return
	}
	chunk := make([]byte, 32<<10)
	for i := range chunk {
		chunk[i] = 'A'
	}
	for left := h.Size; h.Size < 0 || left > 0; {
		c := chunk
		if h.Size >= 0 && left < int64(len(c)) {
			c = c[:left]
		}
		n, err := w.Write(c)
		h.sent.Add(int64(n))
		left -= int64(n)
		if err != nil {
			return
		}
		if r.Context().Err() != nil {
			return
		}
	}
}
