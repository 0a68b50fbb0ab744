package policy

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Defaults of a profile's token lifetimes.
const (
	DefaultTTL    = time.Hour
	DefaultMaxTTL = 12 * time.Hour
)

// MaxFileSize bounds what Load reads of one file.
const MaxFileSize = 1 << 20

// Error is every problem Load found. Its message lists them one a line as
// file:line:col: summary: detail.
type Error struct {
	Diagnostics hcl.Diagnostics
}

func (e *Error) Error() string {
	var b strings.Builder
	n := 0
	for _, d := range e.Diagnostics {
		if d.Severity != hcl.DiagError {
			continue
		}
		n++
		b.WriteString("\n  ")
		b.WriteString(FormatDiagnostic(d))
	}
	return fmt.Sprintf("invalid policies: %d problem(s):%s", n, b.String())
}

// FormatDiagnostic renders d as file:line:col: summary: detail.
func FormatDiagnostic(d *hcl.Diagnostic) string {
	var b strings.Builder
	if d.Subject != nil {
		fmt.Fprintf(&b, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
	}
	b.WriteString(d.Summary)
	if d.Detail != "" {
		b.WriteString(": ")
		b.WriteString(d.Detail)
	}
	return b.String()
}

// Load reads and validates the policies directory dir. On any problem it
// returns an *Error listing every diagnostic; it never panics.
func Load(dir string) (*Config, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("could not read policies directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("could not read policies directory: %s is not a directory", dir)
	}
	return LoadFS(os.DirFS(dir), dir)
}

// LoadFS is Load reading from fsys; dir is only used to name files in
// messages.
func LoadFS(fsys fs.FS, dir string) (*Config, error) {
	l := &loader{fsys: fsys, dir: dir, cfg: &Config{Dir: dir}}
	if err := l.load(); err != nil {
		return nil, err
	}
	if l.diags.HasErrors() {
		sortDiagnostics(l.diags)
		return nil, &Error{Diagnostics: l.diags}
	}
	return l.cfg, nil
}

type loader struct {
	fsys  fs.FS
	dir   string
	cfg   *Config
	diags hcl.Diagnostics

	// seen remembers where each singleton block and each profile is.
	seen     map[string]*hcl.Range
	profiles map[string]*hcl.Range
	roles    map[string]*hcl.Range
	// refs are the policy names profiles and roles use, with where.
	refs []policyRef
	// certRefs: where profiles ask for client certificates (clientcert.go).
	certRefs []hcl.Range
	// attendedRefs: where profiles declare attended tiers; attendedBlock:
	// broker.hcl's attended block (attended.go).
	attendedRefs  []hcl.Range
	attendedBlock *hcl.Range
	// directRefs: where profiles set direct_login; profileAttrs: where
	// each profile's attributes are, by profile+"\x00"+attribute
	// (direct.go).
	directRefs   []directRef
	profileAttrs map[string]hcl.Range
}

type policyRef struct {
	system, name string
	rng          hcl.Range
}

func (l *loader) errorf(rng *hcl.Range, summary, format string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng})
}

// warnf records a warning at rng: in Warnings as file:line:col: message,
// and with its position in WarningDiagnostics.
func (l *loader) warnf(rng *hcl.Range, format string, args ...any) {
	d := &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: fmt.Sprintf(format, args...), Subject: rng}
	l.cfg.WarningDiagnostics = append(l.cfg.WarningDiagnostics, d)
	l.cfg.Warnings = append(l.cfg.Warnings, FormatDiagnostic(d))
}

func (l *loader) load() error {
	l.seen = map[string]*hcl.Range{}
	l.profiles = map[string]*hcl.Range{}
	l.roles = map[string]*hcl.Range{}
	l.profileAttrs = map[string]hcl.Range{}

	top, err := l.hclFiles(".")
	if err != nil {
		return err
	}
	if len(top) == 0 && !l.diags.HasErrors() {
		l.errorf(nil, "No configuration", "%s holds no .hcl file; want at least broker.hcl", l.dir)
	}
	for _, f := range top {
		l.loadTop(f)
	}
	for _, sys := range []string{"vault", "nomad", "consul"} {
		if err := l.loadDocuments(sys); err != nil {
			return err
		}
	}
	l.others()
	l.finish()
	// A folder without profiles is refused rather than applied: with
	// --prune it would delete every managed profile. Said only when
	// nothing else is wrong, since a file that did not parse may be where
	// the profiles are.
	if len(l.profiles) == 0 && !l.diags.HasErrors() {
		l.errorf(nil, "No profile", "%s declares no profile block; refusing to use it, since applying it with --prune would delete every managed profile (declare at least one profile, usually in profiles.hcl)", l.dir)
	}
	return nil
}

// finish runs the checks that need every file: required blocks and
// references.
func (l *loader) finish() {
	anyFile := &hcl.Range{Filename: filepath.Join(l.dir, "broker.hcl"), Start: hcl.InitialPos, End: hcl.InitialPos}
	for _, req := range []string{"sso", "vault"} {
		if l.seen[req] == nil {
			l.errorf(anyFile, "Missing "+req+" block", "the %s block is required (usually in broker.hcl)", req)
		}
	}
	if l.seen["vault"] == nil {
		l.cfg.Vault = Vault{JWTMount: "jwt", NomadMount: "nomad", ConsulMount: "consul"}
	}
	have := map[string][]Document{"vault": l.cfg.VaultPolicies, "nomad": l.cfg.NomadPolicies, "consul": l.cfg.ConsulPolicies}
	for _, r := range l.refs {
		if why, ok := Reserved(r.system, r.name); ok {
			l.errorf(r.rng.Ptr(), "Reserved policy name", "the %s policy name %q is reserved: %s", r.system, r.name, why)
			continue
		}
		if !slices.ContainsFunc(have[r.system], func(d Document) bool { return d.Name == r.name }) {
			l.errorf(r.rng.Ptr(), "Missing policy", "%s policy %q is not defined: want the file %s", r.system, r.name, filepath.Join(l.dir, r.system, r.name+".hcl"))
		}
	}
	l.unused(have)
	l.finishClientCerts() // clientcert.go
	l.finishAttended()    // attended.go
	l.finishDirect()      // direct.go
	slices.SortFunc(l.cfg.Profiles, func(a, b Profile) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(l.cfg.Roles, func(a, b Role) int { return strings.Compare(a.Name, b.Name) })
}

// sortDiagnostics orders diagnostics by file, line and column.
func sortDiagnostics(diags hcl.Diagnostics) {
	key := func(d *hcl.Diagnostic) (string, int, int) {
		if d.Subject == nil {
			return "", 0, 0
		}
		return d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
	}
	sort.SliceStable(diags, func(i, j int) bool {
		fi, li, ci := key(diags[i])
		fj, lj, cj := key(diags[j])
		if fi != fj {
			return fi < fj
		}
		if li != lj {
			return li < lj
		}
		return ci < cj
	})
}

// unused warns about policy files no profile or role names, and role blocks
// for roles no profile lets in (nobody could log in to get them).
func (l *loader) unused(have map[string][]Document) {
	used := map[string]bool{}
	for _, r := range l.refs {
		used[r.system+"/"+r.name] = true
	}
	for _, sys := range []string{"consul", "nomad", "vault"} {
		for _, d := range have[sys] {
			if !used[sys+"/"+d.Name] {
				l.warnf(l.start(d.File), "%s policy %q is not used by any profile or role; it is applied all the same", sys, d.Name)
			}
		}
	}
	for _, r := range l.cfg.Roles {
		if len(l.cfg.ProfilesFor([]string{r.Name})) == 0 {
			l.warnf(l.roles[strings.ToLower(r.Name)], "role %q is in no profile, so nobody gets its policies through a login", r.Name)
		}
	}
}
