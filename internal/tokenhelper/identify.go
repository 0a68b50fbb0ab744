package tokenhelper

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/termtext"
)

// ClientsSetting names, in messages and docs, the setting of alilogin's
// config file that opts other programs in to the token helper: a list of
// patterns (path.Match) for the program's file name (a pattern without
// '/': "terraform-provider-vault*"), its absolute path (a pattern starting
// with '/'), or its Go main package
// ("github.com/hashicorp/terraform-provider-vault"). It is never read from
// the client's environment, which the environment contract treats as
// hostile. Such a program gets the token under the rules of every CLI;
// the helper cannot see where else it may be told to send it (a .tf
// file's address, its own flags).
const ClientsSetting = "token_helper_clients"

// cliNames are the file names of the CLIs, with a version after them as
// versioned installs have it (vault-1.13, vault_1.13.0, bao2, vault-v1.13).
// Compiled on first use: package init runs in every alilogin command,
// `token` included.
var cliNames = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(vault|bao)([-_.]?v?[0-9][0-9A-Za-z.+_-]*)?$`)
})

// baoMain is OpenBao's main package, any major version.
var baoMain = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^github\.com/openbao/openbao(/v[0-9]+)?$`)
})

// cliOf is the CLI whose Go main package is p.
func cliOf(p string) envcontract.CLI {
	switch {
	case p == "github.com/hashicorp/vault":
		return envcontract.VaultCLI
	case baoMain().MatchString(p):
		return envcontract.BaoCLI
	}
	return ""
}

// Identify says which CLI the client is, or why the token helper does
// not serve it. The vault and bao CLIs are served: a Go program whose
// main package is the vault CLI's (github.com/hashicorp/vault) or
// OpenBao's (github.com/openbao/openbao[/vN]), whatever its file is
// called; a program without Go build information whose file is called
// vault or bao, with a version or not. Any other program is served only
// when one of clients (ClientsSetting, from the config file) names it,
// with cli "" (every CLI's rules apply). The check keeps the token from programs that take their
// Vault address from somewhere the helper cannot see (the .tf file of
// terraform-provider-vault); it is no barrier against a program of the
// same user, which can run `alilogin token` itself.
func Identify(c *Client, clients []string) (cli envcontract.CLI, why string) {
	base := filepath.Base(c.Exe)
	if c.Program != "" {
		if cli := cliOf(c.Program); cli != "" {
			return cli, ""
		}
	} else if m := cliNames().FindStringSubmatch(base); m != nil {
		return envcontract.CLI(m[1]), ""
	}
	if optedIn(c, clients) {
		return "", ""
	}
	what := termtext.Clean(c.Exe)
	if c.Program != "" {
		what += " (Go program " + termtext.Clean(c.Program) + ")"
	}
	return "", fmt.Sprintf("the program that runs it, %s, is not the vault or bao CLI; to give it the token anyway, name it in %s in alilogin's config file", what, ClientsSetting)
}

// optedIn reports whether one of the patterns clients names c.
func optedIn(c *Client, clients []string) bool {
	for _, p := range clients {
		var target string
		switch {
		case strings.HasPrefix(p, "/"):
			target = c.Exe
		case strings.Contains(p, "/"):
			target = c.Program
		default:
			target = filepath.Base(c.Exe)
		}
		if ok, err := path.Match(p, target); target != "" && err == nil && ok {
			return true
		}
	}
	return false
}

// Caller is the client a `get` decides for: which CLI it is ("" for a
// program opted in by ClientsSetting, or off Linux: every CLI's rules),
// its environment and its command line (none off Linux).
type Caller struct {
	CLI  envcontract.CLI
	Env  []string
	Args []string
}

// FindCaller finds the client (find; nil: FindClient) and identifies it
// (Identify, with the ClientsSetting of the config file getenv locates,
// never the client's environment). Off Linux (ErrNoProcessView) it is
// this process itself, environ, under every CLI's rules. why says why
// the client gets no token ("" when it may, under Refusal's rules).
func FindCaller(find func() (*Client, error), getenv func(string) string, environ []string) (c Caller, why string) {
	if find == nil {
		find = FindClient
	}
	client, err := find()
	switch {
	case errors.Is(err, ErrNoProcessView):
		return Caller{Env: environ}, ""
	case err != nil:
		return Caller{}, termtext.Clean(err.Error())
	}
	path, err := config.Path(getenv)
	if err != nil {
		return Caller{}, termtext.Clean(err.Error())
	}
	file, err := config.LoadFile(path)
	if err != nil {
		return Caller{}, termtext.Clean(err.Error())
	}
	cli, why := Identify(client, file.TokenHelperClients)
	if why != "" {
		return Caller{}, why
	}
	return Caller{CLI: cli, Env: client.Env, Args: client.Args}, ""
}
