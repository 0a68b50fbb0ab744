package apply

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/policy"
)

// The OIDC client secret comes from the environment, else from a private
// file; a file others may read, an empty one, or none at all is refused,
// and no error repeats the secret.
func TestOIDCClientSecretSources(t *testing.T) {
	const value = "s3cr3t-client-value"
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	private := write("private", value+"\n", 0o600)
	shared := write("shared", value, 0o644)
	empty := write("empty", "\n", 0o600)
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == policy.ClientSecretEnv {
				return v
			}
			return ""
		}
	}
	tests := []struct {
		name    string
		getenv  func(string) string
		file    string
		wantErr string
	}{
		{"environment", env(value), "", ""},
		{"environment wins over the file", env(value), shared, ""},
		{"private file", env(""), private, ""},
		{"file others may read", env(""), shared, "may be read by group or others; run: chmod 600"},
		{"empty file", env(""), empty, "is empty"},
		{"missing file", env(""), filepath.Join(dir, "nope"), "no such file"},
		{"neither", env(""), "", "set " + policy.ClientSecretEnv},
		{"a directory", env(""), dir, "not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OIDCClientSecret(tc.getenv, &policy.AttendedSettings{ClientSecretFile: tc.file})
			if tc.wantErr == "" {
				if err != nil || got.Reveal() != value {
					t.Fatalf("got %v, %v; want the secret", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v; want one containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), value) {
				t.Error("the error repeats the secret")
			}
		})
	}
}
