package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// FileName is the config file's name in the alilogin config directory.
const FileName = "config.hcl"

// Dir returns alilogin's directory under the user config directory
// ($XDG_CONFIG_HOME/alilogin, ~/.config/alilogin, ~/Library/Application
// Support/alilogin, %AppData%\alilogin), read from getenv so tests can
// point it elsewhere.
func Dir(getenv func(string) string) (string, error) {
	var base string
	switch runtime.GOOS {
	case "windows":
		base = getenv("AppData")
	case "darwin":
		if h := getenv("HOME"); h != "" {
			base = filepath.Join(h, "Library", "Application Support")
		}
	default:
		base = getenv("XDG_CONFIG_HOME")
		if base == "" || !filepath.IsAbs(base) {
			base = ""
			if h := getenv("HOME"); h != "" {
				base = filepath.Join(h, ".config")
			}
		}
	}
	if base == "" {
		return "", errors.New("could not find the user config directory: HOME is not set")
	}
	return filepath.Join(base, "alilogin"), nil
}

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

// The file's schema.
type fileServer struct {
	Address       *string `hcl:"address,optional"`
	Mount         *string `hcl:"mount,optional"`
	CACert        *string `hcl:"ca_cert,optional"`
	ClientCert    *string `hcl:"client_cert,optional"`
	ClientKey     *string `hcl:"client_key,optional"`
	TLSServerName *string `hcl:"tls_server_name,optional"`
}

type fileProfile struct {
	Name   string   `hcl:"name,label"`
	Roles  []string `hcl:"roles,optional"`
	Nomad  *bool    `hcl:"nomad,optional"`
	Consul *bool    `hcl:"consul,optional"`
}

type fileConfig struct {
	Issuer         *string       `hcl:"issuer,optional"`
	ClientID       *string       `hcl:"client_id,optional"`
	Scopes         []string      `hcl:"scopes,optional"`
	RolesClaim     *string       `hcl:"roles_claim,optional"`
	UserClaim      *string       `hcl:"user_claim,optional"`
	DefaultProfile *string       `hcl:"default_profile,optional"`
	Broker         *string       `hcl:"broker,optional"`
	Store          *string       `hcl:"store,optional"`
	Vault          *fileServer   `hcl:"vault,block"`
	Nomad          *fileServer   `hcl:"nomad,block"`
	Consul         *fileServer   `hcl:"consul,block"`
	Profiles       []fileProfile `hcl:"profile,block"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *fileServer) server() Server {
	if s == nil {
		return Server{}
	}
	var out Server
	out.Addr = str(s.Address)
	out.Mount = str(s.Mount)
	out.TLS.CACert = str(s.CACert)
	out.TLS.ClientCert = str(s.ClientCert)
	out.TLS.ClientKey = str(s.ClientKey)
	out.TLS.ServerName = str(s.TLSServerName)
	return out
}

// LoadFile reads the config file at path as a layer. A missing file is an
// empty layer, not an error.
func LoadFile(path string) (Config, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("could not read config file: %w", err)
	}
	return Parse(path, src)
}

// Parse decodes HCL config text; path is used in error messages.
func Parse(path string, src []byte) (Config, error) {
	f, diags := hclparse.NewParser().ParseHCL(src, path)
	if diags.HasErrors() {
		return Config{}, fmt.Errorf("could not parse config file: %w", diagErr(diags))
	}
	var fc fileConfig
	if diags := gohcl.DecodeBody(f.Body, nil, &fc); diags.HasErrors() {
		return Config{}, fmt.Errorf("could not read config file: %w", diagErr(diags))
	}
	c := Config{
		Issuer:         str(fc.Issuer),
		ClientID:       str(fc.ClientID),
		Scopes:         fc.Scopes,
		RolesClaim:     str(fc.RolesClaim),
		UserClaim:      str(fc.UserClaim),
		DefaultProfile: str(fc.DefaultProfile),
		Broker:         str(fc.Broker),
		Store:          str(fc.Store),
		Vault:          fc.Vault.server(),
		Nomad:          fc.Nomad.server(),
		Consul:         fc.Consul.server(),
		File:           path,
	}
	for _, p := range fc.Profiles {
		if !ValidProfileName(p.Name) {
			return Config{}, fmt.Errorf("config file %s: invalid profile name %q", path, p.Name)
		}
		c.Profiles = append(c.Profiles, Profile{
			Name:     p.Name,
			Roles:    p.Roles,
			NoNomad:  p.Nomad != nil && !*p.Nomad,
			NoConsul: p.Consul != nil && !*p.Consul,
		})
	}
	return c, nil
}

func diagErr(d hcl.Diagnostics) error { return errors.New(d.Error()) }
