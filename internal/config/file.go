package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/userdir"
)

// FileName is the config file's name in the alilogin config directory.
const FileName = "config.hcl"

// Dir returns alilogin's directory under the user config directory
// ($XDG_CONFIG_HOME/alilogin, ~/.config/alilogin, ~/Library/Application
// Support/alilogin, %AppData%\alilogin), read from getenv so tests can
// point it elsewhere.
func Dir(getenv func(string) string) (string, error) { return userdir.Config(getenv) }

// Path is the config file to read: ALILOGIN_CONFIG, else config.hcl in Dir.
func Path(getenv func(string) string) (string, error) {
	if p := getenv("ALILOGIN_CONFIG"); p != "" {
		return p, nil
	}
	d, err := Dir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, FileName), nil
}

// The file's schema: top-level string attributes, scopes, one block per
// server and one labelled block per profile. It is decoded with hclsyntax
// and the small decoder below rather than gohcl: gohcl links hclwrite and
// go-cmp into the binary, whose start-up `alilogin token` pays for on
// every call.
var (
	fileStrings   = []string{"issuer", "client_id", "roles_claim", "user_claim", "default_profile", "broker", "store", "pki_mount"}
	serverStrings = []string{"address", "mount", "ca_cert", "client_cert", "client_key", "tls_server_name"}
	fileSchema    = &hcl.BodySchema{
		Attributes: append(attrSchemas(fileStrings), hcl.AttributeSchema{Name: "scopes"}, hcl.AttributeSchema{Name: "insecure_http"},
			hcl.AttributeSchema{Name: "token_helper_clients"}),
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "vault"}, {Type: "nomad"}, {Type: "consul"},
			{Type: "profile", LabelNames: []string{"name"}},
		},
	}
	serverSchema  = &hcl.BodySchema{Attributes: attrSchemas(serverStrings)}
	profileSchema = &hcl.BodySchema{Attributes: attrSchemas(append([]string{"roles", "nomad", "consul", "use_agent"}, directAttrs...)),
		Blocks: []hcl.BlockHeaderSchema{{Type: "agent"}}}
)

func attrSchemas(names []string) []hcl.AttributeSchema {
	out := make([]hcl.AttributeSchema, len(names))
	for i, n := range names {
		out[i] = hcl.AttributeSchema{Name: n}
	}
	return out
}

// decoder collects the diagnostics of decoding one file.
type decoder struct{ diags hcl.Diagnostics }

// value converts the attribute's value to ty, as gohcl would: null (or a
// missing attribute) gives ok = false.
func (d *decoder) value(attrs hcl.Attributes, name string, ty cty.Type) (v cty.Value, ok bool) {
	a := attrs[name]
	if a == nil {
		return cty.NilVal, false
	}
	v, diags := a.Expr.Value(nil)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	v, err := convert.Convert(v, ty)
	if err != nil {
		d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsuitable value type",
			Detail: fmt.Sprintf("Unsuitable value for %s: %s", name, err), Subject: a.Expr.StartRange().Ptr()})
		return cty.NilVal, false
	}
	if v.IsNull() {
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown value",
			Detail: fmt.Sprintf("The value of %s must be known.", name), Subject: a.Expr.StartRange().Ptr()})
		return cty.NilVal, false
	}
	return v, true
}

func (d *decoder) str(attrs hcl.Attributes, name string) string {
	if v, ok := d.value(attrs, name, cty.String); ok {
		return v.AsString()
	}
	return ""
}

func (d *decoder) strings(attrs hcl.Attributes, name string) []string {
	v, ok := d.value(attrs, name, cty.List(cty.String))
	if !ok {
		return nil
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Null value",
				Detail: fmt.Sprintf("The elements of %s must not be null.", name), Subject: attrs[name].Expr.StartRange().Ptr()})
			return nil
		}
		out = append(out, e.AsString())
	}
	return out
}

// boolean returns the attribute's value and whether it is set.
func (d *decoder) boolean(attrs hcl.Attributes, name string) (val, set bool) {
	if v, ok := d.value(attrs, name, cty.Bool); ok {
		return v.True(), true
	}
	return false, false
}

func (d *decoder) content(body hcl.Body, schema *hcl.BodySchema) *hcl.BodyContent {
	c, diags := body.Content(schema)
	d.diags = append(d.diags, diags...)
	return c
}

// server decodes the only block of its type, if any, and notes where its
// address and mount are in pos.
func (d *decoder) server(blocks hcl.Blocks, pos positions) Server {
	if len(blocks) == 0 {
		return Server{}
	}
	if len(blocks) > 1 {
		d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Duplicate %s block", blocks[0].Type),
			Detail:  fmt.Sprintf("Only one %s block is allowed. Another was defined at %s.", blocks[0].Type, blocks[0].DefRange),
			Subject: &blocks[1].DefRange})
	}
	a := d.content(blocks[0].Body, serverSchema).Attributes
	pos.note(a, "address", blocks[0].Type+" address")
	pos.note(a, "mount", blocks[0].Type+" mount")
	var s Server
	s.Addr = d.str(a, "address")
	s.Mount = d.str(a, "mount")
	s.TLS.CACert = d.str(a, "ca_cert")
	s.TLS.ClientCert = d.str(a, "client_cert")
	s.TLS.ClientKey = d.str(a, "client_key")
	s.TLS.ServerName = d.str(a, "tls_server_name")
	if blocks[0].Type == "consul" {
		// HOST:PORT as in CONSUL_HTTP_ADDR: http, so loopback only.
		s.Addr = check.ConsulAddress(s.Addr, false)
	}
	return s
}

// LoadFile reads the config file at path as a layer. A missing file is an
// empty layer, not an error.
func LoadFile(path string) (Config, error) {
	c, _, err := loadFile(path)
	return c, err
}

func loadFile(path string) (Config, positions, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, nil, nil
	}
	if err != nil {
		return Config{}, nil, fmt.Errorf("could not read config file: %w", err)
	}
	return parse(path, src)
}

// positions maps a setting (as named in messages, e.g. "vault mount") to
// where its value is in the file.
type positions map[string]hcl.Range

func (p positions) note(a hcl.Attributes, attr, setting string) {
	if at := a[attr]; at != nil {
		p[setting] = at.Expr.Range()
	}
}

// Parse decodes HCL config text; path is used in error messages. Mount
// paths are checked here (check.Mount); addresses are checked by Resolve,
// which knows whether insecure_http is set in a higher layer.
func Parse(path string, src []byte) (Config, error) {
	c, _, err := parse(path, src)
	return c, err
}

func parse(path string, src []byte) (Config, positions, error) {
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return Config{}, nil, fmt.Errorf("could not parse config file: %w", diagErr(diags))
	}
	d := &decoder{}
	content := d.content(f.Body, fileSchema)
	a := content.Attributes
	pos := positions{}
	pos.note(a, "issuer", "issuer")
	pos.note(a, "broker", "broker")
	pos.note(a, "pki_mount", "pki mount")
	c := Config{
		Issuer:             d.str(a, "issuer"),
		ClientID:           d.str(a, "client_id"),
		Scopes:             d.strings(a, "scopes"),
		TokenHelperClients: d.strings(a, "token_helper_clients"),
		RolesClaim:         d.str(a, "roles_claim"),
		UserClaim:          d.str(a, "user_claim"),
		DefaultProfile:     d.str(a, "default_profile"),
		Broker:             d.str(a, "broker"),
		Store:              d.str(a, "store"),
		PKIMount:           d.str(a, "pki_mount"),
		File:               path,
	}
	c.InsecureHTTP, _ = d.boolean(a, "insecure_http")
	blocks := content.Blocks.ByType()
	c.Vault = d.server(blocks["vault"], pos)
	c.Nomad = d.server(blocks["nomad"], pos)
	c.Consul = d.server(blocks["consul"], pos)
	for _, b := range blocks["profile"] {
		pc := d.content(b.Body, profileSchema)
		pa := pc.Attributes
		p := Profile{Name: b.Labels[0], Roles: d.strings(pa, "roles")}
		d.agent(pc.Blocks, path, &p) // agent.go
		d.direct(pa, &p)             // direct.go
		if v, set := d.boolean(pa, "nomad"); set {
			p.NoNomad = !v
		}
		if v, set := d.boolean(pa, "consul"); set {
			p.NoConsul = !v
		}
		p.Agent, _ = d.boolean(pa, "use_agent")
		c.Profiles = append(c.Profiles, p)
	}
	if d.diags.HasErrors() {
		return Config{}, nil, fmt.Errorf("could not read config file: %w", diagErr(d.diags))
	}
	for _, p := range c.Profiles {
		if !ValidProfileName(p.Name) {
			return Config{}, nil, fmt.Errorf("config file %s: invalid profile name %q", path, p.Name)
		}
	}
	if err := checkMounts(&c, pos.where(path)); err != nil {
		return Config{}, nil, fmt.Errorf("could not read config file: %w", err)
	}
	return c, pos, nil
}

func diagErr(d hcl.Diagnostics) error { return errors.New(d.Error()) }
