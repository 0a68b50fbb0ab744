package main

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// run reports in and checks that it failed or not as wantFailed says.
func run(t *testing.T, in string, wantFailed bool) (stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	failed, err := report(strings.NewReader(in), &out, &errOut)
	if err != nil || failed != wantFailed {
		t.Fatalf("failed = %v, err = %v; want failed = %v", failed, err, wantFailed)
	}
	return out.String(), errOut.String()
}

// testdata/mixed.json is `go test -json ./...` over four packages: one
// that does not build, one without tests, one with a failing test, a
// failing subtest, a passing test that logs and a skipped subtest, and
// one that passes.
func TestReportMixed(t *testing.T) {
	in, err := os.ReadFile("testdata/mixed.json")
	if err != nil {
		t.Fatal(err)
	}
	out, errOut := run(t, string(in), true)
	want := `FAIL	tj/q [build failed]
?   	tj/r	[no test files]
stack ready
--- FAIL: TestFail (0.00s)
    p_test.go:6: before
    p_test.go:6: boom
--- FAIL: TestNest (0.00s)
    p_test.go:7: parent
    --- FAIL: TestNest/bad (0.00s)
        p_test.go:7: sub log
    p_test.go:7: parent after
FAIL
FAIL	tj/p	0.01s
ok  	tj/s	0.01s
FAIL
skipped: 1
--- SKIP: TestSkip/sub (tj/p)
    p_test.go:5: no pwsh here
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	wantErr := "# tj/q [tj/q.test]\nq/q.go:2:23: cannot use \"x\" (untyped string constant) as int value in return statement\n"
	if diff := cmp.Diff(wantErr, errOut); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
}

func TestReportAllPassed(t *testing.T) {
	in := `{"Action":"start","Package":"a"}
{"Action":"run","Package":"a","Test":"TestA"}
{"Action":"output","Package":"a","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"a","Test":"TestA","Output":"    a_test.go:4: a log\n"}
{"Action":"output","Package":"a","Test":"TestA","Output":"--- PASS: TestA (0.00s)\n"}
{"Action":"pass","Package":"a","Test":"TestA"}
{"Action":"output","Package":"a","Output":"PASS\n"}
{"Action":"output","Package":"a","Output":"ok  \ta\t0.01s\n"}
{"Action":"pass","Package":"a"}
`
	out, _ := run(t, in, false)
	if diff := cmp.Diff("ok  \ta\t0.01s\nskipped: none\n", out); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}

// A stream that ends before a package's result (go test was killed) is a
// failure, and what the package printed is shown.
func TestReportCutStream(t *testing.T) {
	in := `{"Action":"start","Package":"a"}
{"Action":"run","Package":"a","Test":"TestA"}
{"Action":"output","Package":"a","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"a","Test":"TestA","Output":"    a_test.go:4: still running\n"}
not json at all
`
	out, _ := run(t, in, true)
	want := "not json at all\ntestreport: no result for a\n    a_test.go:4: still running\nFAIL\nskipped: none\n"
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}
