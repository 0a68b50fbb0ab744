package tokenhelper

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRestoreHelper: --remove puts back the token_helper setup replaced,
// or removes the line it added, keeping every other setting; one set by
// hand since is left alone.
func TestRestoreHelper(t *testing.T) {
	const script = "/home/u/.config/alilogin/vault-token-helper"
	for _, tc := range []struct {
		name, before, previous, after string
		ours                          bool
	}{
		{"restores the previous one", "# mine\ntoken_helper = \"" + script + "\"\nx = 1\n", `"/old/helper"`, "# mine\ntoken_helper = \"/old/helper\"\nx = 1\n", true},
		{"removes the line it added", "# mine\ntoken_helper = \"" + script + "\"\nx = 1\n", "", "# mine\nx = 1\n", true},
		{"leaves another helper", "token_helper = \"/mine\"\n", `"/old/helper"`, "token_helper = \"/mine\"\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), ".vault")
			if err := os.WriteFile(p, []byte(tc.before), 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := RestoreHelper(p, script, tc.previous)
			if err != nil || r.Ours != tc.ours {
				t.Fatalf("RestoreHelper: %+v, %v", r, err)
			}
			if got, _ := os.ReadFile(p); string(got) != tc.after {
				t.Errorf("file:\n%s\nwant:\n%s", got, tc.after)
			}
		})
	}
}

// TestRefusalRecord: the last refusal round-trips through a 0600 file
// and is gone once cleared.
func TestRefusalRecord(t *testing.T) {
	dir := t.TempDir()
	if LastRefusal(dir) != nil {
		t.Fatal("a refusal before any")
	}
	if err := RecordRefusal(dir, RefusalRecord{Profile: "ci", Reason: "VAULT_SKIP_VERIFY is set"}); err != nil {
		t.Fatal(err)
	}
	r := LastRefusal(dir)
	if r == nil || r.Profile != "ci" || r.Reason != "VAULT_SKIP_VERIFY is set" {
		t.Fatalf("LastRefusal = %+v", r)
	}
	if fi, err := os.Stat(filepath.Join(dir, RefusalFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("refusal file: %v, %v", fi, err)
	}
	ClearRefusal(dir)
	if LastRefusal(dir) != nil {
		t.Error("a refusal after ClearRefusal")
	}
}
