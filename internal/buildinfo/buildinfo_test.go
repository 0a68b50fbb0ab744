package buildinfo

import (
	"bytes"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFrom(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "-trimpath", Value: "true"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "1111111111111111111111111111111111111111"},
		{Key: "vcs.time", Value: "2026-11-30T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	for _, tc := range []struct {
		name                     string
		ldVersion, ldCommit, ldD string
		bi                       *debug.BuildInfo
		want                     Info
	}{
		{"no build info", "", "", "", nil,
			Info{Version: Devel, GoVersion: runtime.Version(), Platform: "linux/amd64"}},
		{"go install @version: the module version", "", "", "",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/alisw/alilogin", Version: "v1.2.3"}},
			Info{Version: "v1.2.3", GoVersion: "go1.26.8", Platform: "linux/amd64"}},
		{"go build in a checkout: the vcs settings", "", "", "",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261130100000-111111111111+dirty"}, Settings: vcs},
			Info{Version: "v0.0.0-20261130100000-111111111111+dirty", Commit: "1111111111111111111111111111111111111111", Date: "2026-11-30T10:00:00Z", Modified: true, GoVersion: "go1.26.8", Platform: "linux/amd64"}},
		{"go build without vcs: devel", "", "", "",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			Info{Version: Devel, GoVersion: "go1.26.8", Platform: "linux/amd64"}},
		{"release build: -ldflags win over everything", "v1.4.0", "2222222222222222222222222222222222222222", "2026-12-01T12:00:00Z",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			Info{Version: "v1.4.0", Commit: "2222222222222222222222222222222222222222", Date: "2026-12-01T12:00:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := from(tc.ldVersion, tc.ldCommit, tc.ldD, tc.bi, "linux/amd64")
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("from (-want +got):\n%s", d)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	i := Info{Version: "v1.4.0", Commit: "2222222222222222222222222222222222222222", Date: "2026-12-01T12:00:00Z", GoVersion: "go1.26.8", Platform: "darwin/arm64"}
	for _, tc := range []struct {
		name string
		i    Info
		json bool
		want string
	}{
		{"line", i, false, "alilogin v1.4.0 (commit 222222222222, built 2026-12-01T12:00:00Z, go1.26.8 darwin/arm64)\n"},
		{"line, unknown commit and date", Info{Version: Devel, GoVersion: "go1.26.8", Platform: "linux/amd64"}, false,
			"alilogin (devel) (commit unknown, built unknown, go1.26.8 linux/amd64)\n"},
		{"line, modified checkout", Info{Version: "v1.4.0", Commit: "abc", Modified: true, GoVersion: "go1.26.8", Platform: "linux/amd64"}, false,
			"alilogin v1.4.0 (commit abc+modified, built unknown, go1.26.8 linux/amd64)\n"},
		{"json", i, true, `{"version":"v1.4.0","commit":"2222222222222222222222222222222222222222","date":"2026-12-01T12:00:00Z","go_version":"go1.26.8","platform":"darwin/arm64"}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.i.Write(&b, "alilogin", tc.json); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, b.String()); d != "" {
				t.Errorf("Write (-want +got):\n%s", d)
			}
			if tc.json {
				var back Info
				if err := json.Unmarshal(b.Bytes(), &back); err != nil || back != tc.i {
					t.Errorf("JSON does not read back: %v %+v", err, back)
				}
			}
		})
	}
}

// TestRead: the test binary's own build information goes through from.
func TestRead(t *testing.T) {
	i := Read()
	if i.Version == "" || !strings.HasPrefix(i.GoVersion, "go") || i.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("Read() = %+v", i)
	}
}
