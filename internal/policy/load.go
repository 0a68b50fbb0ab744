package policy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/alisw/alilogin/internal/config/check"
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

// hclFiles lists the *.hcl files directly in dir (slash-separated, relative
// to the policies directory), sorted; a missing dir is an empty list.
//
// A symbolic link to a regular file is read like the file (configuration
// management deploys that way). Nothing named *.hcl is skipped silently:
// a dangling or looping link, or an entry that is not a regular file, is an
// error at that file; a hidden file (.name.hcl: editor swap and lock files)
// is left out with a warning.
func (l *loader) hclFiles(dir string) ([]string, error) {
	entries, err := fs.ReadDir(l.fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		// A dangling link named like the folder is not a missing folder.
		if target, lerr := fs.ReadLink(l.fsys, dir); lerr == nil {
			l.errorf(l.start(dir), "Broken symbolic link", "%s is a symbolic link to %q, which does not exist", l.display(dir), target)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("could not list %s: %w", l.display(dir), err)
	}
	var out []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".hcl") {
			continue
		}
		rel := path.Join(dir, e.Name())
		if strings.HasPrefix(e.Name(), ".") {
			l.warnf(l.start(rel), "hidden file left out (only files not starting with '.' are read)")
			continue
		}
		if l.regular(rel, e) {
			out = append(out, rel)
		}
	}
	sort.Strings(out)
	return out, nil
}

// others warns of each *.hcl file that is not read because of where it
// is or how it is named: in a folder other than the policies folder itself
// and vault/, nomad/ and consul/ (profiles.d/x.hcl, vault/team/x.hcl), or
// with an extension that is not lower-case .hcl (x.HCL; only *.hcl is
// read). Folders whose names start with '.' (.git) are not looked into. A
// symbolic link to a folder is not followed but warned about, except
// vault, nomad and consul themselves, which are read through the link and
// so are looked into the same way.
func (l *loader) others() {
	n := 0
	for _, sys := range l.walk(".", &n) {
		l.walk(sys, &n)
	}
}

// read is the folders whose *.hcl files Load reads.
var read = map[string]bool{".": true, "vault": true, "nomad": true, "consul": true}

// walk warns as others says under root, counting entries in n; it returns
// the folders vault, nomad and consul found as links to folders (only
// when root is ".").
func (l *loader) walk(root string, n *int) []string {
	var linked []string
	_ = fs.WalkDir(l.fsys, root, func(rel string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil // an unreadable folder: what is in it is unknown
		}
		if *n++; *n > maxWalk {
			return fs.SkipAll
		}
		name := e.Name()
		if e.IsDir() {
			if rel != root && strings.HasPrefix(name, ".") {
				return fs.SkipDir
			}
			return nil
		}
		if e.Type()&fs.ModeSymlink != 0 && !strings.HasPrefix(name, ".") {
			if st, err := fs.Stat(l.fsys, rel); err == nil && st.IsDir() {
				if root == "." && read[rel] && rel != "." {
					linked = append(linked, rel)
				} else {
					l.warnf(l.start(rel), "left out: a symbolic link to a folder is not followed; only the *.hcl files in the policies folder itself and in vault/, nomad/ and consul/ (which may be links) are read")
				}
				return nil
			}
		}
		if !strings.EqualFold(path.Ext(name), ".hcl") {
			return nil
		}
		switch {
		case !read[path.Dir(rel)]:
			l.warnf(l.start(rel), "left out: only the *.hcl files in the policies folder itself and in vault/, nomad/ and consul/ are read")
		case path.Ext(name) != ".hcl":
			l.warnf(l.start(rel), "left out: only files whose names end in lower-case .hcl are read")
		}
		return nil
	})
	return linked
}

// maxWalk bounds how many entries others looks at.
const maxWalk = 10000

// regular reports whether the entry rel is a regular file or a symbolic
// link to one; anything else is an error at rel.
func (l *loader) regular(rel string, e fs.DirEntry) bool {
	typ := e.Type()
	if typ.IsRegular() {
		return true
	}
	if typ&fs.ModeSymlink == 0 {
		l.errorf(l.start(rel), "Not a regular file", "%s is a %s, not a file", l.display(rel), kind(typ))
		return false
	}
	target, _ := fs.ReadLink(l.fsys, rel)
	st, err := fs.Stat(l.fsys, rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		l.errorf(l.start(rel), "Broken symbolic link", "%s is a symbolic link to %q, which does not exist", l.display(rel), target)
		return false
	case err != nil:
		// ELOOP and the like: the message of the system says which.
		l.errorf(l.start(rel), "Broken symbolic link", "%s is a symbolic link to %q that cannot be followed: %v", l.display(rel), target, unwrapPath(err))
		return false
	case !st.Mode().IsRegular():
		l.errorf(l.start(rel), "Not a regular file", "%s is a symbolic link to %q, a %s, not a file", l.display(rel), target, kind(st.Mode().Type()))
		return false
	}
	return true
}

// kind names a non-regular file type for messages.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// unwrapPath drops the "stat name:" part of a *fs.PathError, which the
// message names already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// start is the position of the start of the file rel, for messages about
// the file as a whole.
func (l *loader) start(rel string) *hcl.Range {
	return &hcl.Range{Filename: l.display(rel), Start: hcl.InitialPos, End: hcl.InitialPos}
}

// display is how messages name the file rel.
func (l *loader) display(rel string) string { return filepath.Join(l.dir, filepath.FromSlash(rel)) }

// parse reads and parses one HCL file.
func (l *loader) parse(rel string) (*hclsyntax.Body, []byte) {
	path := l.display(rel)
	src, err := l.readLimited(rel)
	if err != nil {
		l.errorf(l.start(rel), "Unreadable file", "%v", err)
		return nil, nil
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() || f == nil {
		return nil, src
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil, src
	}
	return body, src
}

func (l *loader) readLimited(rel string) ([]byte, error) {
	f, err := l.fsys.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("file larger than %d bytes", MaxFileSize)
	}
	return src, nil
}

var topSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "sso"}, {Type: "vault"}, {Type: "nomad"}, {Type: "consul"},
	{Type: "profile", LabelNames: []string{"name"}},
	{Type: "role", LabelNames: []string{"sso_role"}},
}}

func (l *loader) loadTop(path string) {
	body, _ := l.parse(path)
	if body == nil {
		return
	}
	content, diags := body.Content(topSchema)
	l.diags = append(l.diags, diags...)
	for _, b := range content.Blocks {
		switch b.Type {
		case "sso", "vault", "nomad", "consul":
			if prev := l.seen[b.Type]; prev != nil {
				l.errorf(b.DefRange.Ptr(), "Duplicate "+b.Type+" block", "the %s block is already declared at %s", b.Type, rangeString(prev))
				continue
			}
			l.seen[b.Type] = b.DefRange.Ptr()
			switch b.Type {
			case "sso":
				l.loadSSO(b)
			case "vault":
				l.loadVault(b)
			case "nomad":
				l.cfg.Nomad = l.loadServer(b)
			case "consul":
				l.cfg.Consul = l.loadServer(b)
			}
		case "profile":
			l.loadProfileAndAgent(b) // agent.go
		case "role":
			l.loadRole(b)
		}
	}
}

func rangeString(r *hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

func (l *loader) loadSSO(b *hcl.Block) {
	a := l.attrs(b, []hcl.AttributeSchema{
		{Name: "issuer", Required: true}, {Name: "client_id", Required: true},
		{Name: "roles_claim"}, {Name: "user_claim"},
	})
	s := &l.cfg.SSO
	s.Issuer = l.str(a, "issuer", "")
	s.ClientID = l.str(a, "client_id", "")
	s.RolesClaim = l.str(a, "roles_claim", "cern_roles")
	s.UserClaim = l.str(a, "user_claim", "cern_upn")
	if s.Issuer != "" && !strings.HasPrefix(s.Issuer, "https://") && !strings.HasPrefix(s.Issuer, "http://") {
		l.errorf(a["issuer"].Expr.Range().Ptr(), "Invalid issuer", "want an http(s) URL, got %q", s.Issuer)
	}
	for _, k := range []string{"roles_claim", "user_claim"} {
		v := s.RolesClaim
		if k == "user_claim" {
			v = s.UserClaim
		}
		if err := CheckClaim(v); err != nil {
			rng := b.DefRange.Ptr()
			if at := a[k]; at != nil {
				rng = at.Expr.Range().Ptr()
			}
			l.errorf(rng, "Invalid "+k, "%v", err)
		}
	}
}

func (l *loader) loadVault(b *hcl.Block) {
	a := l.attrs(b, []hcl.AttributeSchema{
		{Name: "address"}, {Name: "ca_cert"}, {Name: "client_cert"}, {Name: "client_key"},
		{Name: "jwt_mount"}, {Name: "nomad_mount"}, {Name: "consul_mount"}, {Name: "configure_jwt_auth"}, {Name: "insecure_http"},
		{Name: "pki_mount"},
	})
	v := &l.cfg.Vault
	v.Addr = l.addr(a, "address", false)
	v.TLS.CACert, v.TLS.ClientCert, v.TLS.ClientKey = l.str(a, "ca_cert", ""), l.str(a, "client_cert", ""), l.str(a, "client_key", "")
	v.JWTMount = l.mount(a, "jwt_mount", "jwt")
	v.NomadMount = l.mount(a, "nomad_mount", "nomad")
	v.ConsulMount = l.mount(a, "consul_mount", "consul")
	v.ConfigureJWT = l.boolean(a, "configure_jwt_auth")
	v.PKIMount = l.loadPKIMount(a) // clientcert.go
}

func (l *loader) loadServer(b *hcl.Block) Server {
	a := l.attrs(b, []hcl.AttributeSchema{{Name: "address"}, {Name: "ca_cert"}, {Name: "client_cert"}, {Name: "client_key"}, {Name: "insecure_http"}})
	var s Server
	s.Addr = l.addr(a, "address", b.Type == "consul")
	s.TLS.CACert, s.TLS.ClientCert, s.TLS.ClientKey = l.str(a, "ca_cert", ""), l.str(a, "client_cert", ""), l.str(a, "client_key", "")
	return s
}

func (l *loader) loadProfile(b *hcl.Block) {
	name := b.Labels[0]
	nameRng := b.LabelRanges[0].Ptr()
	if err := CheckName(name); err != nil {
		l.errorf(nameRng, "Invalid profile name", "%v", err)
	} else if why, ok := ReservedProfile(name); ok {
		l.errorf(nameRng, "Reserved profile name", "the profile name %q is reserved: %s; rename the profile", name, why)
	}
	dup := l.profiles[name] != nil
	if dup {
		l.errorf(nameRng, "Duplicate profile", "profile %q is already declared at %s", name, rangeString(l.profiles[name]))
	} else {
		l.profiles[name] = nameRng
	}
	a := l.attrs(b, []hcl.AttributeSchema{
		{Name: "description"}, {Name: "roles", Required: true},
		{Name: "vault_policies"}, {Name: "nomad_policies"}, {Name: "consul_policies"},
		{Name: "ttl"}, {Name: "max_ttl"},
		{Name: "client_cert_ttl"},
	})
	p := Profile{Name: name, Description: l.str(a, "description", ""), File: b.DefRange.Filename}
	p.Roles = l.roleList(a, "roles")
	if at := a["roles"]; at != nil && emptyList(at) {
		l.errorf(at.Expr.Range().Ptr(), "Empty roles", "profile %q lists no SSO role, so nobody could use it", name)
	}
	p.VaultPolicies = l.policyList(a, "vault_policies", "vault")
	p.NomadPolicies = l.policyList(a, "nomad_policies", "nomad")
	p.ConsulPolicies = l.policyList(a, "consul_policies", "consul")
	p.TTL = l.duration(a, "ttl", DefaultTTL)
	p.MaxTTL = l.duration(a, "max_ttl", DefaultMaxTTL)
	if p.TTL > 0 && p.MaxTTL > 0 && p.MaxTTL < p.TTL {
		rng := b.DefRange.Ptr()
		if at := a["max_ttl"]; at != nil {
			rng = at.Expr.Range().Ptr()
		} else if at := a["ttl"]; at != nil {
			rng = at.Expr.Range().Ptr()
		}
		l.errorf(rng, "Invalid max_ttl", "max_ttl (%s) is shorter than ttl (%s)", p.MaxTTL, p.TTL)
	}
	l.loadClientCert(a, &p) // clientcert.go
	if !dup {
		l.cfg.Profiles = append(l.cfg.Profiles, p)
	}
}

func (l *loader) loadRole(b *hcl.Block) {
	name := b.Labels[0]
	nameRng := b.LabelRanges[0].Ptr()
	if err := CheckRole(name); err != nil {
		l.errorf(nameRng, "Invalid role", "%v", err)
	}
	if prev := l.roles[strings.ToLower(name)]; prev != nil {
		l.errorf(nameRng, "Duplicate role", "role %q is already declared at %s (role blocks are compared without case)", name, rangeString(prev))
		return
	}
	l.roles[strings.ToLower(name)] = nameRng
	a := l.attrs(b, []hcl.AttributeSchema{{Name: "vault_policies", Required: true}})
	r := Role{Name: name, File: b.DefRange.Filename, VaultPolicies: l.policyList(a, "vault_policies", "vault")}
	if at := a["vault_policies"]; at != nil && emptyList(at) {
		l.errorf(at.Expr.Range().Ptr(), "Empty vault_policies", "role %q gives no Vault policy; remove the block", name)
	}
	l.cfg.Roles = append(l.cfg.Roles, r)
}

// attrs decodes b's body, which may hold only the given attributes.
func (l *loader) attrs(b *hcl.Block, schema []hcl.AttributeSchema) hcl.Attributes {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: schema})
	l.diags = append(l.diags, diags...)
	if content == nil {
		return hcl.Attributes{}
	}
	return content.Attributes
}

// value evaluates a literal expression (no variables, no functions).
func (l *loader) value(at *hcl.Attribute) (cty.Value, bool) {
	v, diags := at.Expr.Value(nil)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if v.IsNull() || !v.IsWhollyKnown() {
		l.errorf(at.Expr.Range().Ptr(), "Invalid value", "%s must be set to a literal value", at.Name)
		return cty.NilVal, false
	}
	return v, true
}

func (l *loader) str(a hcl.Attributes, name, def string) string {
	at := a[name]
	if at == nil {
		return def
	}
	v, ok := l.value(at)
	if !ok {
		return def
	}
	if v.Type() != cty.String {
		l.errorf(at.Expr.Range().Ptr(), "Invalid value", "%s must be a string", name)
		return def
	}
	s := v.AsString()
	if strings.TrimSpace(s) == "" {
		l.errorf(at.Expr.Range().Ptr(), "Invalid value", "%s must not be empty", name)
		return def
	}
	return s
}

func (l *loader) boolean(a hcl.Attributes, name string) bool {
	at := a[name]
	if at == nil {
		return false
	}
	v, ok := l.value(at)
	if !ok {
		return false
	}
	if v.Type() != cty.Bool {
		l.errorf(at.Expr.Range().Ptr(), "Invalid value", "%s must be true or false", name)
		return false
	}
	return v.True()
}

// addr reads and checks an address; consul's may be HOST:PORT, as in
// CONSUL_HTTP_ADDR (check.ConsulAddress).
func (l *loader) addr(a hcl.Attributes, name string, consul bool) string {
	s := l.str(a, name, "")
	if consul {
		s = check.ConsulAddress(s, false)
	}
	if s != "" {
		s = check.Normalize(s)
		if err := checkAddress(s, l.boolean(a, "insecure_http")); err != nil {
			l.errorf(a[name].Expr.Range().Ptr(), "Invalid address", "%v", err)
		}
	}
	return s
}

func (l *loader) mount(a hcl.Attributes, name, def string) string {
	s := l.str(a, name, def)
	if s != def || a[name] != nil {
		if err := checkMount(s); err != nil {
			l.errorf(a[name].Expr.Range().Ptr(), "Invalid "+name, "%v", err)
		}
	}
	return strings.Trim(s, "/")
}

func (l *loader) duration(a hcl.Attributes, name string, def time.Duration) time.Duration {
	at := a[name]
	if at == nil {
		return def
	}
	s := l.str(a, name, "")
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		l.errorf(at.Expr.Range().Ptr(), "Invalid "+name, "%q is not a duration (want e.g. 30m, 8h)", s)
		return 0
	case d < time.Second:
		l.errorf(at.Expr.Range().Ptr(), "Invalid "+name, "%q: want at least 1s", s)
		return 0
	case d%time.Second != 0:
		l.errorf(at.Expr.Range().Ptr(), "Invalid "+name, "%q: want whole seconds", s)
		return 0
	}
	return d
}

// emptyList reports whether at is a literal empty list.
func emptyList(at *hcl.Attribute) bool {
	exprs, diags := hcl.ExprList(at.Expr)
	return !diags.HasErrors() && len(exprs) == 0
}

// list returns the elements of a literal list of strings with their ranges.
func (l *loader) list(at *hcl.Attribute) ([]string, []hcl.Range) {
	exprs, diags := hcl.ExprList(at.Expr)
	if diags.HasErrors() {
		l.errorf(at.Expr.Range().Ptr(), "Invalid value", "%s must be a list of strings", at.Name)
		return nil, nil
	}
	var (
		out  []string
		rngs []hcl.Range
	)
	for _, e := range exprs {
		v, d := e.Value(nil)
		l.diags = append(l.diags, d...)
		if d.HasErrors() {
			continue
		}
		if v.IsNull() || !v.IsWhollyKnown() || v.Type() != cty.String {
			l.errorf(e.Range().Ptr(), "Invalid value", "%s must be a list of strings", at.Name)
			continue
		}
		out = append(out, v.AsString())
		rngs = append(rngs, e.Range())
	}
	return out, rngs
}

func (l *loader) roleList(a hcl.Attributes, name string) []string {
	at := a[name]
	if at == nil {
		return nil
	}
	vals, rngs := l.list(at)
	var out []string
	for i, v := range vals {
		if err := CheckRole(v); err != nil {
			l.errorf(rngs[i].Ptr(), "Invalid role", "%v", err)
			continue
		}
		if slices.Contains(out, v) {
			l.errorf(rngs[i].Ptr(), "Duplicate role", "%q is listed twice", v)
			continue
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

func (l *loader) policyList(a hcl.Attributes, name, system string) []string {
	at := a[name]
	if at == nil {
		return nil
	}
	vals, rngs := l.list(at)
	var out []string
	for i, v := range vals {
		if slices.Contains(out, v) {
			l.errorf(rngs[i].Ptr(), "Duplicate policy", "%q is listed twice", v)
			continue
		}
		out = append(out, v)
		l.refs = append(l.refs, policyRef{system: system, name: v, rng: rngs[i]})
	}
	slices.Sort(out)
	return out
}

// loadDocuments reads policies/<system>/*.hcl. A file named as a policy
// with a meaning to its server (Reserved: Nomad's anonymous, Vault's
// default) is refused, never applied.
func (l *loader) loadDocuments(system string) error {
	files, err := l.hclFiles(system)
	if err != nil {
		return err
	}
	for _, rel := range files {
		name := strings.TrimSuffix(path.Base(rel), ".hcl")
		start := l.start(rel)
		if err := CheckName(name); err != nil {
			l.errorf(start, "Invalid policy file name", "%v", err)
			continue
		}
		if why, ok := Reserved(system, name); ok {
			l.errorf(start, "Reserved policy name", "the %s policy name %q is reserved: %s; rename the file", system, name, why)
			continue
		}
		body, src := l.parse(rel)
		if body == nil {
			continue
		}
		l.diags = append(l.diags, CheckDocument(system, body)...)
		doc := Document{Name: name, File: rel, Rules: string(src)}
		switch system {
		case "vault":
			l.cfg.VaultPolicies = append(l.cfg.VaultPolicies, doc)
		case "nomad":
			l.cfg.NomadPolicies = append(l.cfg.NomadPolicies, doc)
		case "consul":
			l.cfg.ConsulPolicies = append(l.cfg.ConsulPolicies, doc)
		}
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
