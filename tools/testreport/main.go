package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	failed, err := report(os.Stdin, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testreport: could not read the test output: %v\n", err)
		os.Exit(1)
	}
	if failed {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string // of build-output and build-fail
}

// pkg is what has come of one package so far.
type pkg struct {
	outputs []event         // output events, in order
	ended   map[string]bool // tests with a result
	failed  map[string]bool
	skipped []string // tests skipped, in order
}

// skip is a skipped test and its reason.
type skip struct {
	pkg, test string
	reason    []string
}

func report(in io.Reader, out, errOut io.Writer) (failed bool, err error) {
	pkgs := map[string]*pkg{}
	var order []string // packages started and not yet ended
	var skips []skip
	end := func(name string, ok bool) {
		p := pkgs[name]
		if p == nil {
			return
		}
		delete(pkgs, name)
		for i, n := range order {
			if n == name {
				order = append(order[:i], order[i+1:]...)
				break
			}
		}
		for _, t := range p.skipped {
			skips = append(skips, skip{pkg: name, test: t, reason: p.linesOf(t)})
		}
		if !ok {
			p.writeFailed(out)
			return
		}
		for _, e := range p.outputs {
			if e.Test == "" && summary(e.Output) {
				io.WriteString(out, e.Output)
			}
		}
	}

	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(out, "%s\n", line) // not go test's: pass it on
			continue
		}
		switch e.Action {
		case "build-output":
			io.WriteString(errOut, e.Output)
			continue
		case "build-fail":
			failed = true
			continue
		}
		p := pkgs[e.Package]
		if p == nil {
			p = &pkg{ended: map[string]bool{}, failed: map[string]bool{}}
			pkgs[e.Package] = p
			order = append(order, e.Package)
		}
		switch e.Action {
		case "output":
			p.outputs = append(p.outputs, e)
		case "pass", "fail", "skip":
			if e.Action == "fail" {
				failed = true
			}
			if e.Test == "" {
				end(e.Package, e.Action != "fail")
				continue
			}
			p.ended[e.Test] = true
			p.failed[e.Test] = e.Action == "fail"
			if e.Action == "skip" {
				p.skipped = append(p.skipped, e.Test)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	// A package without a result: the stream was cut (go test killed).
	for len(order) > 0 {
		name := order[0]
		fmt.Fprintf(out, "testreport: no result for %s\n", name)
		failed = true
		end(name, false)
	}
	if failed {
		io.WriteString(out, "FAIL\n")
	}
	if len(skips) == 0 {
		io.WriteString(out, "skipped: none\n")
		return failed, nil
	}
	fmt.Fprintf(out, "skipped: %d\n", len(skips))
	for _, s := range skips {
		fmt.Fprintf(out, "--- SKIP: %s (%s)\n", s.test, s.pkg)
		for _, l := range s.reason {
			fmt.Fprintf(out, "%s\n", l)
		}
	}
	return failed, nil
}

// block is what one test printed: its result line ("--- FAIL: ..."), then
// its lines and its subtests' blocks in the order they came.
type block struct {
	head  string
	items []item
}

// item is a line, or the place of a subtest's block.
type item struct {
	line  string
	child string
}

// writeFailed writes a failed package as go test does without -v: the
// package's own lines, and for each failed (or unfinished) test its result
// line first, then its logs and failed subtests; passed and skipped tests
// are left out.
func (p *pkg) writeFailed(out io.Writer) {
	var top []item
	blocks := map[string]*block{}
	var get func(test string) *block
	get = func(test string) *block {
		if b := blocks[test]; b != nil {
			return b
		}
		b := &block{}
		blocks[test] = b
		if i := strings.LastIndex(test, "/"); i > 0 {
			parent := get(test[:i])
			parent.items = append(parent.items, item{child: test})
		} else {
			top = append(top, item{child: test})
		}
		return b
	}
	for _, e := range p.outputs {
		switch {
		case framing(e.Output):
		case e.Test == "":
			top = append(top, item{line: e.Output})
		default:
			b := get(e.Test)
			if result(e.Output, e.Test) {
				b.head = e.Output
			} else {
				b.items = append(b.items, item{line: e.Output})
			}
		}
	}
	// Without -v, go test indents a subtest's block 4 spaces a level.
	var write func(items []item, indent string)
	write = func(items []item, indent string) {
		for _, it := range items {
			if it.child == "" {
				io.WriteString(out, indent+it.line)
				continue
			}
			if p.ended[it.child] && !p.failed[it.child] {
				continue
			}
			b := blocks[it.child]
			in := strings.Repeat("    ", strings.Count(it.child, "/"))
			if b.head != "" {
				io.WriteString(out, in+strings.TrimLeft(b.head, " "))
			}
			write(b.items, in)
		}
	}
	write(top, "")
}

// result tells test's own result line.
func result(line, test string) bool {
	l := strings.TrimSpace(line)
	for _, r := range []string{"--- FAIL: ", "--- PASS: ", "--- SKIP: "} {
		if strings.HasPrefix(l, r+test+" ") {
			return true
		}
	}
	return false
}

// linesOf is what test printed (its t.Skip reason, its logs), without the
// framing lines.
func (p *pkg) linesOf(test string) []string {
	var text strings.Builder
	for _, e := range p.outputs {
		if e.Test == test && !framing(e.Output) && !result(e.Output, test) {
			text.WriteString(e.Output)
		}
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(text.String(), "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// framing tells test2json's lines for the verbose mode, which go test
// without -v does not print.
func framing(line string) bool {
	for _, p := range []string{"=== RUN ", "=== PAUSE ", "=== CONT ", "=== NAME "} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// summary tells the line that go test prints for a package that passed
// (or has no tests).
func summary(line string) bool {
	return strings.HasPrefix(line, "ok  \t") || strings.HasPrefix(line, "?   \t")
}
