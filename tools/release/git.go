package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// source is the commit a release is built from.
type source struct {
	Commit string    // full hash
	Time   time.Time // commit time: every timestamp of the release
	Dirty  bool      // the work tree has changes git would show
	Tag    string    // the nearest v* tag reachable from HEAD, if any
	Exact  bool      // Tag names HEAD itself
	AtHead []string  // every tag that points at HEAD
}

func git(ctx context.Context, repo string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", repo}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return "", fmt.Errorf("could not run git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("could not run git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// readSource asks git about HEAD. The build itself runs with
// -buildvcs=false (GOFLAGS may say so anyway), so this is where the
// commit comes from.
func readSource(ctx context.Context, repo string) (source, error) {
	var s source
	var err error
	if s.Commit, err = git(ctx, repo, "rev-parse", "--verify", "HEAD^{commit}"); err != nil {
		return s, err
	}
	ct, err := git(ctx, repo, "show", "-s", "--format=%ct", "HEAD")
	if err != nil {
		return s, err
	}
	sec, err := strconv.ParseInt(ct, 10, 64)
	if err != nil {
		return s, fmt.Errorf("could not parse the commit time %q: %w", ct, err)
	}
	s.Time = time.Unix(sec, 0).UTC()
	st, err := git(ctx, repo, "status", "--porcelain")
	if err != nil {
		return s, err
	}
	s.Dirty = st != ""
	at, err := git(ctx, repo, "tag", "--points-at", "HEAD")
	if err != nil {
		return s, err
	}
	s.AtHead = strings.Fields(at)
	// No tag (or a shallow clone) is not an error: the version is then a
	// v0.0.0 pseudo-version.
	if tag, err := git(ctx, repo, "describe", "--tags", "--abbrev=0", "--match", "v[0-9]*", "HEAD"); err == nil && semverRE.MatchString(tag) {
		s.Tag = tag
		for _, t := range s.AtHead {
			s.Exact = s.Exact || t == tag
		}
	}
	return s, nil
}

var semverRE = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$`)

// version is what `go install ...@<commit>` would call this commit: the
// tag itself on a tagged commit, else a Go pseudo-version that sorts after
// the nearest tag and before the next one. A dirty tree gets "+dirty".
func (s source) version() string {
	v := s.pseudo()
	if s.Dirty {
		v += "+dirty"
	}
	return v
}

func (s source) pseudo() string {
	if s.Tag != "" && s.Exact {
		return s.Tag
	}
	rev := s.Commit
	if len(rev) > 12 {
		rev = rev[:12]
	}
	ts := s.Time.UTC().Format("20060102150405")
	m := semverRE.FindStringSubmatch(s.Tag)
	switch {
	case m == nil:
		return "v0.0.0-" + ts + "-" + rev
	case m[4] != "": // vX.Y.Z-pre → vX.Y.Z-pre.0.<time>-<rev>
		return s.Tag + ".0." + ts + "-" + rev
	default: // vX.Y.Z → vX.Y.(Z+1)-0.<time>-<rev>
		patch, _ := strconv.Atoi(m[3])
		return fmt.Sprintf("v%s.%s.%d-0.%s-%s", m[1], m[2], patch+1, ts, rev)
	}
}

// allowVersion says whether a release of s may be stamped version (an
// explicit VERSION): only the clean commit that tag names, so that a
// release version always means the bytes that rebuilding its tag gives.
// A snapshot is built without VERSION and keeps its pseudo-version.
func (s source) allowVersion(version string) error {
	if s.Dirty {
		return fmt.Errorf("could not release %s: the work tree has uncommitted changes (git status); commit or stash them, or build a snapshot without VERSION (it is called %s)", version, s.version())
	}
	for _, t := range s.AtHead {
		if t == version {
			return nil
		}
	}
	return fmt.Errorf("could not release %s: no tag %s points at HEAD (%s); tag the commit first (git tag %s), or build a snapshot without VERSION (it is called %s)", version, version, s.Commit, version, s.version())
}
