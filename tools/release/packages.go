package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
	"github.com/goreleaser/nfpm/v2/rpm"
)

const (
	homepage   = "https://github.com/alisw/alilogin"
	maintainer = "ALICE alilogin maintainers"
	vendor     = "CERN ALICE"
)

type packageInput struct {
	Repo    string // the repository: policies/, docs/
	Docs    string // <Docs>/<command>/{man1,completions} from __gen-docs
	Out     string
	Version string
	Arch    string // GOARCH
	MTime   time.Time
	Binary  func(command string) string
	// Notices is the file of licences of the code compiled into the
	// command's binary (writeNotices).
	Notices func(command string) string
}

// The agent's systemd user unit: its source in the repository and where
// the alilogin package installs it.
const (
	agentUnitSrc = "packaging/systemd/alilogin-agent.service"
	agentUnit    = "/usr/lib/systemd/user/alilogin-agent.service"
)

// pkgDef is one package, built as deb and RPM.
type pkgDef struct {
	name, command, description, section string
	extra                               func(in packageInput) (files.Contents, error)
}

var packages = []pkgDef{
	{name: "alilogin", command: "alilogin", section: "utils",
		description: "One SSO login for short-lived Vault, Nomad and Consul tokens\n" +
			"alilogin signs an engineer in once through CERN SSO and keeps short-lived\n" +
			"Vault, Nomad and Consul tokens in the OS keyring, ready for the vault, nomad\n" +
			"and consul CLIs and for scripts.",
		extra: func(in packageInput) (files.Contents, error) {
			c, err := docFiles(in, filepath.Join(in.Repo, "README.md"), "/usr/share/doc/alilogin/README.md")
			if err != nil {
				return nil, err
			}
			// The agent as a systemd user service (the directory belongs
			// to systemd: not owned here).
			return append(c, file(in, filepath.Join(in.Repo, agentUnitSrc), agentUnit, 0o644, "")), nil
		}},
	{name: "alilogin-broker", command: "broker", section: "admin",
		description: "Policies as code for alilogin: SSO roles to Vault, Nomad and Consul\n" +
			"broker validates, plans and applies the profiles of policies/ to Vault, Nomad\n" +
			"and Consul, and serves them as a Nomad job. The example policies are in\n" +
			"/usr/share/doc/alilogin-broker/examples/policies, the Nomad job and its\n" +
			"Vault and Consul policies in /usr/share/doc/alilogin-broker/deploy.",
		extra: func(in packageInput) (files.Contents, error) {
			c := files.Contents{dir(in, "/usr/share/doc/alilogin-broker/examples")}
			for _, d := range []struct{ src, dst string }{
				{"policies", "/usr/share/doc/alilogin-broker/examples/policies"},
				{"docs/deploy", "/usr/share/doc/alilogin-broker/deploy"},
				{"docs/admin-guide.md", "/usr/share/doc/alilogin-broker/admin-guide.md"},
			} {
				more, err := docFiles(in, filepath.Join(in.Repo, d.src), d.dst)
				if err != nil {
					return nil, err
				}
				c = append(c, more...)
			}
			return c, nil
		}},
}

// buildPackages writes the deb and RPM of every package for in.Arch into
// in.Out and returns their names.
func buildPackages(in packageInput) ([]string, error) {
	var names []string
	for _, p := range packages {
		for _, format := range []string{"deb", "rpm"} {
			info, err := p.info(in)
			if err != nil {
				return nil, err
			}
			var packager nfpm.Packager = deb.Default
			if format == "rpm" {
				packager = rpm.DefaultRPM
			}
			info = nfpm.WithDefaults(info)
			name := packager.ConventionalFileName(info)
			var b bytes.Buffer
			if err := packager.Package(info, &b); err != nil {
				return nil, fmt.Errorf("could not build %s: %w", name, err)
			}
			if err := os.WriteFile(filepath.Join(in.Out, name), b.Bytes(), 0o644); err != nil {
				return nil, fmt.Errorf("could not write %s: %w", name, err)
			}
			names = append(names, name)
		}
	}
	return names, nil
}

func (p pkgDef) info(in packageInput) (*nfpm.Info, error) {
	c := files.Contents{file(in, in.Binary(p.command), "/usr/bin/"+p.command, 0o755, "")}
	comp := filepath.Join(in.Docs, p.command, "completions")
	c = append(c,
		file(in, filepath.Join(comp, p.command+".bash"), "/usr/share/bash-completion/completions/"+p.command, 0o644, ""),
		// Debian's zsh looks in vendor-completions, Fedora/RHEL's in site-functions.
		file(in, filepath.Join(comp, "_"+p.command), "/usr/share/zsh/vendor-completions/_"+p.command, 0o644, "deb"),
		file(in, filepath.Join(comp, "_"+p.command), "/usr/share/zsh/site-functions/_"+p.command, 0o644, "rpm"),
		file(in, filepath.Join(comp, p.command+".fish"), "/usr/share/fish/vendor_completions.d/"+p.command+".fish", 0o644, ""),
	)
	man, err := manPages(in, p.command)
	if err != nil {
		return nil, err
	}
	c = append(c, man...)
	more, err := p.extra(in)
	if err != nil {
		return nil, err
	}
	c = append(c, more...)
	// The package's own directories, so that rpm -e removes them (dpkg
	// removes a directory once it is empty anyway).
	c = append(c, dir(in, "/usr/share/doc/"+p.name), dir(in, "/usr/share/licenses/"+p.name))
	// The licences of what the binary compiles in: Debian's copyright
	// file, an RPM %license file.
	notices := in.Notices(p.command)
	c = append(c, file(in, notices, "/usr/share/doc/"+p.name+"/copyright", 0o644, "deb"))
	lic := file(in, notices, "/usr/share/licenses/"+p.name+"/NOTICES", 0o644, "rpm")
	lic.Type = files.TypeRPMLicense
	c = append(c, lic)
	return &nfpm.Info{
		Name:        p.name,
		Arch:        in.Arch,
		Platform:    "linux",
		Version:     in.Version,
		Release:     "1",
		Section:     p.section,
		Priority:    "optional",
		Maintainer:  maintainer,
		Vendor:      vendor,
		Homepage:    homepage,
		Description: p.description,
		MTime:       in.MTime,
		Overridables: nfpm.Overridables{
			Contents: c,
			// zstd: RHEL 8 and 9 read it; far faster to write than gzip.
			RPM: nfpm.RPM{BuildHost: "reproducible", Compression: "zstd", Summary: strings.SplitN(p.description, "\n", 2)[0]},
		},
	}, nil
}

// dir is a directory the RPM owns.
func dir(in packageInput, dst string) *files.Content {
	return &files.Content{Destination: dst, Type: files.TypeDir, Packager: "rpm",
		FileInfo: &files.ContentFileInfo{Mode: 0o755, MTime: in.MTime}}
}

func file(in packageInput, src, dst string, mode fs.FileMode, packager string) *files.Content {
	return &files.Content{Source: src, Destination: dst, Packager: packager,
		FileInfo: &files.ContentFileInfo{Mode: mode, MTime: in.MTime}}
}

// manPages gzips the command's man pages (reproducibly: no name, no time
// in the gzip header) into the work directory and lists them.
func manPages(in packageInput, command string) (files.Contents, error) {
	dir := filepath.Join(in.Docs, command, "man1")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("could not list the man pages: %w", err)
	}
	var c files.Contents
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".1") {
			continue
		}
		gz := filepath.Join(in.Docs, command, "man1gz", e.Name()+".gz")
		if _, err := os.Stat(gz); err != nil {
			if err := gzipFile(filepath.Join(dir, e.Name()), gz); err != nil {
				return nil, err
			}
		}
		c = append(c, file(in, gz, "/usr/share/man/man1/"+e.Name()+".gz", 0o644, ""))
	}
	if len(c) == 0 {
		return nil, fmt.Errorf("could not find man pages in %s", dir)
	}
	return c, nil
}

func gzipFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("could not read %s: %w", src, err)
	}
	var z bytes.Buffer
	w, err := gzip.NewWriterLevel(&z, gzip.BestCompression)
	if err != nil {
		return fmt.Errorf("could not compress %s: %w", src, err)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("could not compress %s: %w", src, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("could not compress %s: %w", src, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("could not create %s: %w", filepath.Dir(dst), err)
	}
	if err := os.WriteFile(dst, z.Bytes(), 0o644); err != nil {
		return fmt.Errorf("could not write %s: %w", dst, err)
	}
	return nil
}

// docFiles lists src (a file, or every file under a directory, sorted)
// as documentation at dst.
func docFiles(in packageInput, src, dst string) (files.Contents, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("could not find %s: %w", src, err)
	}
	if !st.IsDir() {
		return files.Contents{file(in, src, dst, 0o644, "")}, nil
	}
	var rels, dirs []string
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			rel, err := filepath.Rel(src, p)
			dirs = append(dirs, filepath.ToSlash(rel))
			return err
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("could not package %s: not a regular file", p)
		}
		rel, err := filepath.Rel(src, p)
		rels = append(rels, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("could not list %s: %w", src, err)
	}
	sort.Strings(rels)
	var c files.Contents
	for _, d := range dirs {
		c = append(c, dir(in, path.Join(dst, d)))
	}
	for _, rel := range rels {
		c = append(c, file(in, filepath.Join(src, filepath.FromSlash(rel)), path.Join(dst, rel), 0o644, ""))
	}
	return c, nil
}
