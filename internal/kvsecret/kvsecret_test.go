package kvsecret

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     Spec
		err      string
	}{
		{"plain", "GH=secret/ci/github#token", Spec{Var: "GH", Path: "secret/ci/github", Field: "token"}, ""},
		{"slashes trimmed", "GH=/secret/ci/github/#token", Spec{Var: "GH", Path: "secret/ci/github", Field: "token"}, ""},
		{"no equals", "secret/ci#x", Spec{}, "want VAR="},
		{"bad var", "1X=secret/ci#x", Spec{}, "not an environment variable name"},
		{"no field", "X=secret/ci", Spec{}, "no field"},
		{"empty field", "X=secret/ci#", Spec{}, "no field"},
		{"mount only", "X=secret#x", Spec{}, "names no secret"},
		{"dotdot", "X=secret/../sys/x#x", Spec{}, ". or .."},
		{"empty segment", "X=secret//x#x", Spec{}, "empty"},
		{"query", "X=secret/x?list=true#x", Spec{}, "not allowed"},
		{"control", "X=secret/x\x1b[2J#x", Spec{}, "not allowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse(c.in, false)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Error(diff)
			}
		})
	}
	if _, err := ParseAll([]string{"A=s/x#y"}, []string{"A=s/z#y"}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a variable twice: %v", err)
	}
}

// fakeVault speaks the parts of Vault's API that Read uses: the mounts
// lookup, KV v2 at kv2/, KV v1 at kv1/, a token that may read only
// */ok and */missing.
func fakeVault(t *testing.T, inFlight func()) *apiclient.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Vault-Token") != "tok" {
			w.WriteHeader(403)
			return
		}
		p := strings.TrimPrefix(r.URL.Path, "/v1/")
		if rest, ok := strings.CutPrefix(p, "sys/internal/ui/mounts/"); ok {
			switch {
			case strings.HasPrefix(rest, "kv2/"):
				w.Write([]byte(`{"data":{"path":"kv2/","type":"kv","options":{"version":"2"}}}`))
			case strings.HasPrefix(rest, "kv1/"):
				w.Write([]byte(`{"data":{"path":"kv1/","type":"kv","options":null}}`))
			case strings.HasPrefix(rest, "pki/"):
				w.Write([]byte(`{"data":{"path":"pki/","type":"pki"}}`))
			default:
				w.WriteHeader(403)
				w.Write([]byte(`{"errors":["permission denied"]}`))
			}
			return
		}
		if inFlight != nil {
			inFlight()
		}
		switch p {
		case "kv2/data/ok":
			w.Write([]byte(`{"data":{"data":{"password":"v2-value","port":8443},"metadata":{}}}`))
		case "kv1/ok":
			w.Write([]byte(`{"data":{"password":"v1-value"}}`))
		case "kv2/data/missing", "kv1/missing":
			w.WriteHeader(404)
		default:
			w.WriteHeader(403)
			w.Write([]byte(`{"errors":["1 error occurred:\n\t* permission denied\n\n"]}`))
		}
	}))
	t.Cleanup(srv.Close)
	c, err := apiclient.New("Vault", srv.URL, "X-Vault-Token", apiclient.TLS{}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return c.WithToken(secret.New("tok"))
}

func TestRead(t *testing.T) {
	v := fakeVault(t, nil)
	for _, c := range []struct {
		spec, want, err string
	}{
		{"X=kv2/ok#password", "v2-value", ""},
		{"X=kv2/ok#port", "8443", ""},
		{"X=kv1/ok#password", "v1-value", ""},
		{"X=kv2/denied#password", "", "could not read secret kv2/denied#password (X) for profile ci: permission denied"},
		{"X=kv2/missing#password", "", "kv2/missing#password (X) for profile ci: not found"},
		{"X=kv1/missing#password", "", "kv1/missing#password (X) for profile ci: not found"},
		{"X=kv2/ok#nope", "", `the secret has no field "nope"`},
		{"X=other/x#y", "", "other/x#y (X) for profile ci: permission denied"},
		{"X=pki/x#y", "", "not a KV secrets engine"},
	} {
		t.Run(c.spec, func(t *testing.T) {
			s, err := Parse(c.spec, false)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Read(context.Background(), v, "ci", s)
			if c.err != "" {
				var e *Error
				if !errors.As(err, &e) || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				for _, val := range []string{"v2-value", "v1-value", "8443"} {
					if strings.Contains(err.Error(), val) {
						t.Errorf("a value is in the error: %v", err)
					}
				}
				return
			}
			if err != nil || got.Reveal() != c.want {
				t.Fatalf("got %q, %v; want %q", got.Reveal(), err, c.want)
			}
		})
	}
}

// TestReadAllInParallel: every read is in flight at the server before any
// is answered.
func TestReadAllInParallel(t *testing.T) {
	const n = 3
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	v := fakeVault(t, func() {
		mu.Lock()
		arrived++
		if arrived == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(5 * time.Second):
		}
	})
	var specs []Spec
	for _, s := range []string{"A=kv2/ok#password", "B=kv1/ok#password", "C=kv2/ok#port"} {
		sp, _ := Parse(s, false)
		specs = append(specs, sp)
	}
	t0 := time.Now()
	vals, err := ReadAll(context.Background(), v, "ci", specs)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 4*time.Second {
		t.Errorf("the reads were not in flight together (%s)", d)
	}
	var got []string
	for _, x := range vals {
		got = append(got, x.Spec.Var+"="+x.Value.Reveal())
	}
	if diff := cmp.Diff([]string{"A=v2-value", "B=v1-value", "C=8443"}, got); diff != "" {
		t.Error(diff)
	}
}

func TestWriteFiles(t *testing.T) {
	base := t.TempDir()
	a, _ := Parse("A=kv2/ok#x", true)
	b, _ := Parse("B=kv2/ok#y", false)
	vals := []Value{{Spec: a, Value: secret.New("file-value")}, {Spec: b, Value: secret.New("env-value")}}
	f, err := WriteFiles(base, vals)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(f.Dir)
	if err != nil || st.Mode().Perm() != 0o700 || filepath.Dir(f.Dir) != base {
		t.Fatalf("dir %s: %v %v", f.Dir, st.Mode(), err)
	}
	fst, err := os.Stat(f.Paths["A"])
	if err != nil || fst.Mode().Perm() != 0o600 {
		t.Fatalf("file: %v %v", fst.Mode(), err)
	}
	if b, _ := os.ReadFile(f.Paths["A"]); string(b) != "file-value" {
		t.Errorf("file holds %q", b)
	}
	if diff := cmp.Diff([]string{"PATH=/bin", "A=" + f.Paths["A"], "B=env-value"}, Environ([]string{"B=inherited", "PATH=/bin"}, vals, f)); diff != "" {
		t.Error(diff)
	}
	if _, ok := f.Paths["B"]; ok {
		t.Error("a file for an environment secret")
	}
	if err := f.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.Dir); !os.IsNotExist(err) {
		t.Errorf("dir still there: %v", err)
	}
}

func TestBaseDir(t *testing.T) {
	private := t.TempDir()
	os.Chmod(private, 0o700)
	open := t.TempDir()
	os.Chmod(open, 0o755)
	env := func(d string) func(string) string {
		return func(k string) string { return map[string]string{"XDG_RUNTIME_DIR": d}[k] }
	}
	if got := BaseDir(env(private)); got != private {
		t.Errorf("private runtime dir: %s", got)
	}
	// Without a usable runtime directory: /dev/shm when it is a tmpfs
	// (memory, checked here with statfs), else the temporary directory.
	want := fallbackDir(t)
	for _, d := range []string{open, "", "relative/dir", filepath.Join(private, "missing")} {
		if got := BaseDir(env(d)); got != want || got == d {
			t.Errorf("XDG_RUNTIME_DIR=%q: %s, want %s", d, got, want)
		}
	}
}
