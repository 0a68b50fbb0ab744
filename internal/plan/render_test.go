package plan

// Review 9a: server text in `broker plan` output.

import (
	"bytes"
	"testing"
)

// TestWriteCleansLiveText: `broker plan` shows an update of a
// managed policy as a line diff of the live document (read from Vault,
// Nomad or Consul) against the desired one. The live lines are printed as
// they are, so whoever can write a managed policy (or a token with
// sys/policies/acl write) can put escape sequences in it that act on the
// admin's terminal when the broker plans: change the title, clear the
// screen, or move the cursor up and overwrite the "- " lines with what
// the admin expects to see, hiding the drift. The broker uses
// termtext.Clean nowhere (trust rule: "text from a server is data:
// stripped of control characters before a terminal"; issue 9 item 5).
// Names are quoted with %q and hold.
func TestWriteCleansLiveText(t *testing.T) {
	live := "path \"secret/*\" {\n  capabilities = [\"read\"]\n}\n# \x1b[1A\x1b[2K\r  capabilities = [\"read\"]\x1b]0;pwned\x07\u202e\n"
	want := "path \"secret/*\" {\n  capabilities = [\"read\"]\n}\n"
	p := Plan{Changes: []Change{{System: Vault, Kind: VaultPolicy, Name: "alilogin-ci", Action: Update,
		Diffs: []FieldDiff{{Field: "policy", Old: live, New: want}, {Field: "description", Old: "x\x1b[2J", New: "y"}}}}}
	var b bytes.Buffer
	Write(&b, p, false)
	for _, r := range b.String() {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r < 0xa0) || r == 0x202e {
			t.Fatalf("the plan output holds %U:\n%q", r, b.String())
		}
	}
}

// TestWriteJSONCleansLiveText: `broker plan --json` on a terminal.
// encoding/json escapes C0 controls but leaves C1 controls (U+009B is a
// CSI for terminals that take 8-bit controls) and bidi overrides as they
// are; alilogin's writeJSON escapes those too, the broker's does not.
func TestWriteJSONCleansLiveText(t *testing.T) {
	p := Plan{Changes: []Change{{System: Vault, Kind: VaultPolicy, Name: "alilogin-ci", Action: Update,
		Diffs: []FieldDiff{{Field: "policy", Old: "x\u009b2J\u202eevil", New: "y"}}}}}
	var b bytes.Buffer
	if err := WriteJSON(&b, p, false); err != nil {
		t.Fatal(err)
	}
	for _, r := range b.String() {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r < 0xa0) || r == 0x202e {
			t.Fatalf("the JSON plan holds %U:\n%q", r, b.String())
		}
	}
}
