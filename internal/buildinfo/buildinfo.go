package buildinfo

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set by a release build:
//
//	-ldflags "-X github.com/alisw/alilogin/internal/buildinfo.version=v1.2.3
//	          -X github.com/alisw/alilogin/internal/buildinfo.commit=<40 hex>
//	          -X github.com/alisw/alilogin/internal/buildinfo.date=2026-12-01T12:00:00Z"
var version, commit, date string

// Devel is the version of a build that knows none.
const Devel = "(devel)"

// Info is one build's identity. Empty Commit or Date: not known.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// Read returns the running binary's Info.
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return from(version, commit, date, bi, runtime.GOOS+"/"+runtime.GOARCH)
}

// from merges what -ldflags set with the toolchain's build information
// (bi may be nil): a value set by -ldflags wins.
func from(ldVersion, ldCommit, ldDate string, bi *debug.BuildInfo, platform string) Info {
	i := Info{Version: ldVersion, Commit: ldCommit, Date: ldDate, GoVersion: runtime.Version(), Platform: platform}
	if bi == nil {
		if i.Version == "" {
			i.Version = Devel
		}
		return i
	}
	if bi.GoVersion != "" {
		i.GoVersion = bi.GoVersion
	}
	var vcsCommit, vcsTime string
	var vcsModified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			vcsCommit = s.Value
		case "vcs.time":
			vcsTime = s.Value
		case "vcs.modified":
			vcsModified = s.Value == "true"
		}
	}
	if i.Version == "" {
		i.Version = bi.Main.Version
	}
	if i.Version == "" {
		i.Version = Devel
	}
	// The vcs settings describe the checkout the build ran in; they fill
	// in only when -ldflags did not name the commit.
	if i.Commit == "" && vcsCommit != "" {
		i.Commit, i.Modified = vcsCommit, vcsModified
		if i.Date == "" {
			i.Date = vcsTime
		}
	}
	return i
}

// Line is the one-line form: "alilogin v1.2.3 (commit 0c0f0d3e1a2b, built
// 2026-12-01T12:00:00Z, go1.26.8 linux/amd64)".
func (i Info) Line(name string) string {
	c := "unknown"
	if i.Commit != "" {
		c = i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if i.Modified {
			c += "+modified"
		}
	}
	d := i.Date
	if d == "" {
		d = "unknown"
	}
	return fmt.Sprintf("%s %s (commit %s, built %s, %s %s)", name, i.Version, c, d, i.GoVersion, i.Platform)
}

// Write prints Info to w: the one line, or with asJSON one JSON object.
func (i Info) Write(w io.Writer, name string, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(i)
		if err != nil {
			return fmt.Errorf("could not encode build information: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintln(w, i.Line(name))
	return err
}
