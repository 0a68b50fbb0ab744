package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zalando/go-keyring"

	"github.com/alisw/alilogin/internal/secret"
)

// memKeyring is an in-memory keyring; down makes every call fail like an
// unreachable Secret Service; slow makes calls hang.
type memKeyring struct {
	mu    sync.Mutex
	items map[string]string
	down  bool
	slow  bool
}

// mustPut writes r to s; t fails at once if it cannot.
func mustPut(t *testing.T, s interface{ Put(*Record) error }, r *Record) {
	t.Helper()
	if err := s.Put(r); err != nil {
		t.Fatal(err)
	}
}

func (m *memKeyring) fail() error {
	if m.slow {
		time.Sleep(time.Second)
	}
	if m.down {
		return errors.New("The name org.freedesktop.secrets was not provided by any .service files")
	}
	return nil
}

func (m *memKeyring) Get(s, u string) (string, error) {
	if err := m.fail(); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[s+"/"+u]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (m *memKeyring) Set(s, u, p string) error {
	if err := m.fail(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[s+"/"+u] = p
	return nil
}

func (m *memKeyring) Delete(s, u string) error {
	if err := m.fail(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[s+"/"+u]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.items, s+"/"+u)
	return nil
}

func testRecord(profile string) *Record {
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	return &Record{
		Version: RecordVersion, Profile: profile, User: "alice", Roles: []string{"a"}, Issuer: "https://sso", ClientID: "cli", Subject: "s",
		VaultAddr: "https://vault.example:8200", NomadAddr: "https://nomad.example:4646", ConsulAddr: "https://consul.example:8501",
		RefreshToken: secret.New("refresh-secret"), IDTokenExp: now.Add(time.Hour),
		Vault:     &Token{Secret: secret.New("vault-secret"), Accessor: "acc", Renewable: true, Policies: []string{"default"}, IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
		Nomad:     &Token{Secret: secret.New("nomad-secret"), Accessor: "nacc", LeaseID: "nomad/creds/ci/1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
		Consul:    &Token{Secret: secret.New("consul-secret"), LeaseID: "consul/creds/ci/1", IssuedAt: now, ExpiresAt: now.Add(time.Hour), MaxExpiresAt: now.Add(24 * time.Hour)},
		UpdatedAt: now,
		CertDirs:  []string{"/run/user/1000/alilogin/" + profile, "/home/alice/.local/state/alilogin/run/" + profile},
	}
}

func newTestKeyring(max int) (*Keyring, *memKeyring) {
	m := &memKeyring{items: map[string]string{}}
	return &Keyring{api: m, timeout: 200 * time.Millisecond, maxItem: max}, m
}

func TestRoundTrip(t *testing.T) {
	kr, _ := newTestKeyring(0)
	for name, st := range map[string]Store{"keyring": kr, "file": NewFile(t.TempDir())} {
		t.Run(name, func(t *testing.T) {
			r := testRecord("ci")
			mustPut(t, st, r)
			got, err := st.Get("ci")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(r, got); diff != "" {
				t.Errorf("(-put +got):\n%s", diff)
			}
			if l, _ := st.List(); !cmp.Equal(l, []string{"ci"}) {
				t.Errorf("List = %v", l)
			}
			if err := st.Delete("ci"); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Get("ci"); !errors.Is(err, ErrNotFound) {
				t.Errorf("after Delete: %v", err)
			}
			if err := st.Delete("ci"); !errors.Is(err, ErrNotFound) {
				t.Errorf("second Delete: %v", err)
			}
			if l, _ := st.List(); len(l) != 0 {
				t.Errorf("List after Delete = %v", l)
			}
		})
	}
}

func TestRecordJSONRedacts(t *testing.T) {
	b, err := json.Marshal(testRecord("ci"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"vault-secret", "nomad-secret", "consul-secret", "refresh-secret"} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("Record's JSON shows %s", s)
		}
	}
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "records")
	f := NewFile(dir)
	mustPut(t, f, testRecord("ci"))
	fi, _ := os.Stat(filepath.Join(dir, "ci.json"))
	di, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("modes file %v dir %v", fi.Mode().Perm(), di.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("leftover temporary files: %v", ents)
	}
}

func TestCorrupt(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ci.json"), []byte("{not json"), 0o600)
	_, err := NewFile(dir).Get("ci")
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Profile != "ci" || !strings.Contains(err.Error(), `profile "ci"`) || !strings.Contains(err.Error(), "unreadable") {
		t.Errorf("err = %v", err)
	}
	os.WriteFile(filepath.Join(dir, "other.json"), []byte(`{"version":1,"profile":"ci"}`), 0o600)
	if _, err := NewFile(dir).Get("other"); !errors.As(err, &ce) {
		t.Errorf("record of another profile: %v", err)
	}
}

func TestBadProfileNames(t *testing.T) {
	f := NewFile(t.TempDir())
	for _, p := range []string{"", "../x", "a/b", ".hidden"} {
		if _, err := f.Get(p); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v", p, err)
		}
	}
}

// TestValidProfileName: the hand-written check is the regexp it replaced.
func TestValidProfileName(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	names := []string{"", "a", "Z9", "ci", "alice-ci", "a.b_c-d", "-a", ".a", "_a", "a/b", "../x", "a b", "a\n", "é", "a\x00",
		strings.Repeat("a", 127), strings.Repeat("a", 128), strings.Repeat("a", 129), "a" + strings.Repeat("-", 127), "a" + strings.Repeat("-", 128)}
	for c := 0; c < 256; c++ {
		names = append(names, string([]byte{byte(c)}), "a"+string([]byte{byte(c)}))
	}
	for _, n := range names {
		if got, want := ValidProfileName(n), re.MatchString(n); got != want {
			t.Errorf("ValidProfileName(%q) = %v, want %v", n, got, want)
		}
	}
}

func TestAutoFallback(t *testing.T) {
	for _, tc := range []struct {
		name   string
		down   bool
		slow   bool
		max    int
		notice string
	}{
		{"keyring unreachable", true, false, 0, "no OS keyring reachable"},
		{"keyring hangs", false, true, 0, "no OS keyring reachable"},
		{"item too large", false, false, 100, "too large for the OS keyring"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kr, m := newTestKeyring(tc.max)
			m.down, m.slow = tc.down, tc.slow
			var notice bytes.Buffer
			a := &Auto{Keyring: kr, File: NewFile(t.TempDir()), Notice: &notice}
			r := testRecord("ci")
			mustPut(t, a, r)
			if !strings.Contains(notice.String(), tc.notice) || strings.Count(notice.String(), "\n") != 1 {
				t.Errorf("notice %q", notice.String())
			}
			if _, err := a.File.Get("ci"); err != nil {
				t.Errorf("not in the file store: %v", err)
			}
			got, err := a.Get("ci")
			if err != nil || !cmp.Equal(r, got) {
				t.Errorf("Get: %v", err)
			}
			if l, err := a.List(); err != nil || !cmp.Equal(l, []string{"ci"}) {
				t.Errorf("List = %v, %v", l, err)
			}
			err = a.Delete("ci")
			var ue *UnavailableError
			switch {
			case tc.down || tc.slow:
				// The keyring failed, so it may still hold an item: no success.
				if !errors.As(err, &ue) {
					t.Errorf("Delete with the keyring failing = %v, want an *UnavailableError", err)
				}
			case err != nil:
				t.Fatal(err)
			}
			if _, err := a.File.Get("ci"); !errors.Is(err, ErrNotFound) {
				t.Errorf("file copy after Delete: %v", err)
			}
		})
	}
}

func TestAutoPrefersKeyringAndCleansFile(t *testing.T) {
	kr, m := newTestKeyring(0)
	a := &Auto{Keyring: kr, File: NewFile(t.TempDir())}
	m.down = true
	a.Put(testRecord("ci")) // to the file
	m.down = false
	mustPut(t, a, testRecord("ci")) // keyring back: file copy removed
	if _, err := a.File.Get("ci"); !errors.Is(err, ErrNotFound) {
		t.Errorf("stale file copy: %v", err)
	}
	if _, err := kr.Get("ci"); err != nil {
		t.Errorf("keyring: %v", err)
	}
}

func TestOpen(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	home := t.TempDir()
	for _, tc := range []struct {
		kind, envKind string
		want          string
		err           bool
	}{
		{"", "", "*store.Auto", false},
		{"file", "", "*store.File", false},
		{"", "file", "*store.File", false},
		{"keyring", "file", "*store.Keyring", false},
		{"bogus", "", "", true},
	} {
		st, err := Open(tc.kind, env(map[string]string{"HOME": home, "ALILOGIN_STORE": tc.envKind}), nil)
		if (err != nil) != tc.err {
			t.Errorf("Open(%q, env %q): %v", tc.kind, tc.envKind, err)
			continue
		}
		if err == nil {
			if got := typeName(st); got != tc.want {
				t.Errorf("Open(%q, env %q) = %s, want %s", tc.kind, tc.envKind, got, tc.want)
			}
		}
	}
}

// typeName names the store behind the kernel cache, if any.
func typeName(v any) string {
	if c, ok := v.(*Cached); ok {
		v = c.Store
	}
	switch v.(type) {
	case *Auto:
		return "*store.Auto"
	case *File:
		return "*store.File"
	case *Keyring:
		return "*store.Keyring"
	}
	return "?"
}
