package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/termtext"
)

// setupOptions are the flags of `alilogin setup`.
type setupOptions struct {
	Broker         string
	DefaultProfile string
	Timeout        time.Duration
	VaultHelper    bool
	Remove         bool
}

func newSetupCmd(e *cmdEnv) *cobra.Command {
	var o setupOptions
	c := &cobra.Command{
		Use:   "setup --broker URL",
		Short: "Configure alilogin from a broker's discovery document",
		Long: `Read the broker's discovery document (URL/v1/discovery), record the broker in
the user config file (other settings in the file are kept), cache the
document next to it, and list the profiles. The discovered settings sit below
flags, the environment and the config file.

--vault-token-helper (with or without --broker) makes plain vault commands ask
alilogin for the profile's Vault token: it writes a helper script (0700) in
alilogin's config directory (~/.local/bin or ~/.alilogin when that path has a
space or another character a shell reads) and sets token_helper to it in the
vault CLI's config file (~/.vault, or VAULT_CONFIG_PATH), keeping its other
settings and printing a token_helper it replaces (kept in the state directory).
The script runs the alilogin setup ran from, else the first of /usr/bin,
/usr/local/bin, ~/.local/bin, ~/bin, ~/go/bin that has one, each only when
root or you alone can replace it and the directories above it.
--vault-token-helper --remove undoes it: token_helper goes back to the one it
replaced (or the line goes), the other settings stay, the script is removed.`,
		Example: `  alilogin setup --broker https://alilogin-broker.cern.ch
  alilogin setup --vault-token-helper
  alilogin setup --vault-token-helper --remove`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.Remove {
				if !o.VaultHelper || o.Broker != "" || o.DefaultProfile != "" {
					return cmdroot.With(exitUsage, errors.New("--remove goes with --vault-token-helper alone"))
				}
				return removeVaultHelper(e)
			}
			if o.VaultHelper {
				if err := setupVaultHelper(e); err != nil || o.Broker == "" {
					return err
				}
			}
			return runSetup(c.Context(), e, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Broker, "broker", "", "broker base URL, e.g. https://alilogin-broker.cern.ch (required)")
	f.StringVar(&o.DefaultProfile, "default-profile", "", "also set the default profile")
	f.DurationVar(&o.Timeout, "timeout", 30*time.Second, "how long to wait for the broker")
	f.BoolVar(&o.VaultHelper, "vault-token-helper", false, "make plain vault commands ask alilogin for the Vault token (token_helper in ~/.vault); --broker is then optional")
	f.BoolVar(&o.Remove, "remove", false, "with --vault-token-helper: undo it (restore token_helper in ~/.vault, remove the script)")
	return c
}

func runSetup(ctx context.Context, e *cmdEnv, o setupOptions) error {
	if o.Broker == "" {
		return cmdroot.With(exitUsage, errors.New("--broker is required"))
	}
	base, err := config.BrokerBase(o.Broker)
	if err != nil {
		return cmdroot.With(exitUsage, err)
	}
	insecure, err := config.InsecureHTTP(e.Getenv)
	if err != nil {
		return err
	}
	if err := config.CheckBroker(base, insecure); err != nil {
		return cmdroot.With(exitUsage, err)
	}
	if o.DefaultProfile != "" && !config.ValidProfileName(o.DefaultProfile) {
		return cmdroot.With(exitUsage, fmt.Errorf("invalid profile name %q", o.DefaultProfile))
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	doc, err := config.FetchDiscovery(ctx, base, insecure, o.Timeout)
	if err != nil {
		return err
	}
	if o.DefaultProfile != "" && !slices.Contains(doc.Names(), o.DefaultProfile) {
		return fmt.Errorf("the broker has no profile %q; it has: %s", o.DefaultProfile, profileNames(doc.Names()))
	}
	path, err := config.Path(e.Getenv)
	if err != nil {
		return err
	}
	if err := writeSetupConfig(path, base, o.DefaultProfile); err != nil {
		return err
	}
	if err := config.WriteDiscoveryCache(filepath.Dir(path), base, doc); err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "Configured alilogin for the broker at %s (%s).\n", base, path)
	fmt.Fprintf(e.Stderr, "SSO %s, client %s; Vault %s.\n", termtext.Clean(doc.SSO.Issuer), termtext.Clean(doc.SSO.ClientID), termtext.Clean(doc.Vault.Addr))
	// The profiles on stdout (data): name, the SSO roles that may use
	// it, what it grants, and its description.
	if len(doc.Profiles) > 0 {
		tw := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PROFILE\tROLES (any of)\tGRANTS\tMAX TTL\tDESCRIPTION")
		for _, p := range doc.Profiles {
			grants := []string{"vault"}
			if p.Nomad {
				grants = append(grants, "nomad")
			}
			if p.Consul {
				grants = append(grants, "consul")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, termtext.Clean(strings.Join(p.Roles, ",")), strings.Join(grants, "+"),
				termtext.Clean(orDash(p.MaxTTL)), termtext.Clean(orDash(p.Description)))
		}
		_ = tw.Flush()
	}
	switch {
	case len(doc.Profiles) == 0:
		fmt.Fprintln(e.Stderr, "The broker declares no profiles yet.")
	case o.DefaultProfile != "":
		fmt.Fprintf(e.Stderr, "Next: alilogin login   (default profile: %s)\n", o.DefaultProfile)
	default:
		fmt.Fprintf(e.Stderr, "Next: alilogin login --profile %s   (or without --profile if your roles allow only one)\n", doc.Profiles[0].Name)
	}
	return nil
}

func profileNames(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeSetupConfig sets `broker` (and `default_profile` when given) in the
// HCL config file at path, keeping everything else in it, atomically. The
// other discovered settings are not copied into the file: they would then
// shadow later changes at the broker.
func writeSetupConfig(path, broker, defaultProfile string) error {
	set := []config.Setting{{Name: "broker", Value: broker}}
	if defaultProfile != "" {
		set = append(set, config.Setting{Name: "default_profile", Value: defaultProfile})
	}
	return config.UpdateFile(path, set...)
}
