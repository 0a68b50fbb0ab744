package serve

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/alisw/alilogin/internal/discovery"
)

// Status is the body of /readyz.
type Status struct {
	Ready          bool              `json:"ready"`
	Leader         bool              `json:"leader"`
	Generation     int64             `json:"generation"`
	LoadedAt       *time.Time        `json:"loaded_at,omitempty"`
	ConfigError    string            `json:"config_error,omitempty"`
	LastReconcile  *time.Time        `json:"last_reconcile,omitempty"`
	LastSuccess    *time.Time        `json:"last_success,omitempty"`
	ReconcileError string            `json:"reconcile_error,omitempty"`
	ServerErrors   map[string]string `json:"server_errors,omitempty"`
}

// Status reports readiness: a good configuration is in force and the folder
// on disk still loads, the servers answer, and, on the leader, the last
// reconcile succeeded.
func (s *Server) Status() Status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := Status{Leader: s.leading}
	var problems bool
	if s.cur == nil {
		problems = true
		st.ConfigError = "no valid configuration loaded yet"
	} else {
		st.Generation = s.cur.generation
		t := s.cur.loadedAt
		st.LoadedAt = &t
	}
	if s.loadErr != nil {
		problems = true
		st.ConfigError = s.loadErr.Error()
	}
	if !s.reconcileAt.IsZero() {
		t := s.reconcileAt
		st.LastReconcile = &t
	}
	if !s.reconcileOK.IsZero() {
		t := s.reconcileOK
		st.LastSuccess = &t
	}
	if s.reconErr != nil {
		st.ReconcileError = s.reconErr.Error()
		if s.leading {
			problems = true
		}
	}
	for sys, err := range s.probeErrs {
		if err != nil {
			if st.ServerErrors == nil {
				st.ServerErrors = map[string]string{}
			}
			st.ServerErrors[sys] = err.Error()
			problems = true
		}
	}
	st.Ready = !problems
	return st
}

// Handler serves /healthz, /readyz, /metrics and /v1/discovery.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		st := s.Status()
		code := http.StatusOK
		if !st.Ready {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, st)
	})
	mux.Handle("GET /metrics", s.metrics.Handler())
	mux.HandleFunc("GET "+discovery.Path, func(w http.ResponseWriter, r *http.Request) {
		st := s.current()
		if st == nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "no valid configuration loaded yet"})
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=60")
		h.Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write(slices.Clip(st.discovery))
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
