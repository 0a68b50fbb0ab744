package main

import (
	"container/heap"
	"fmt"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/callgraph"
	"golang.org/x/tools/go/callgraph/cha"
	"golang.org/x/tools/go/callgraph/vta"
	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/ssa"
	"golang.org/x/tools/go/ssa/ssautil"
)

// program is alilogin's call graph, built once from the tree's source.
type program struct {
	graph *callgraph.Graph
	fset  *token.FileSet
	root  string // the module's directory, to make file names relative
}

// loadProgram builds the call graph of cmd/alilogin in the tree src with
// variable type analysis (an interface call goes to the types that can
// reach it, not to every type with the method).
func loadProgram(src string) (*program, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return nil, err
	}
	cfg := &packages.Config{Mode: packages.LoadAllSyntax, Dir: abs}
	pkgs, err := packages.Load(cfg, "./cmd/alilogin")
	if err != nil {
		return nil, err
	}
	if packages.PrintErrors(pkgs) > 0 {
		return nil, fmt.Errorf("cmd/alilogin in %s does not load", src)
	}
	prog, _ := ssautil.AllPackages(pkgs, ssa.InstantiateGenerics)
	prog.Build()
	funcs := ssautil.AllFunctions(prog)
	return &program{graph: vta.CallGraph(funcs, cha.CallGraph(prog)), fset: prog.Fset, root: abs}, nil
}

// span is a function's or a block's place in a file.
type span struct {
	file                string
	fromLine, fromCol   int
	untilLine, untilCol int
}

func (s span) contains(o span) bool {
	return s.file == o.file && !before(o.fromLine, o.fromCol, s.fromLine, s.fromCol) &&
		!before(s.untilLine, s.untilCol, o.untilLine, o.untilCol)
}

func before(l1, c1, l2, c2 int) bool { return l1 < l2 || l1 == l2 && c1 < c2 }

// blockSpan reads a coverage block "file:l.c,l.c".
func blockSpan(b string) (span, bool) {
	file, rest, ok := strings.Cut(b, ":")
	from, until, ok2 := strings.Cut(rest, ",")
	if !ok || !ok2 {
		return span{}, false
	}
	fl, fc, ok3 := lineCol(from)
	ul, uc, ok4 := lineCol(until)
	return span{file, fl, fc, ul, uc}, ok3 && ok4
}

func lineCol(s string) (int, int, bool) {
	l, c, ok := strings.Cut(s, ".")
	li, err1 := strconv.Atoi(l)
	ci, err2 := strconv.Atoi(c)
	return li, ci, ok && err1 == nil && err2 == nil
}

// place is fn's span in the module, or false for a function outside it
// (the standard library, a dependency) or one without source.
func (p *program) place(fn *ssa.Function) (span, bool) {
	if o := fn.Origin(); o != nil {
		fn = o
	}
	syn := fn.Syntax()
	if syn == nil {
		return span{}, false
	}
	from, until := p.fset.Position(syn.Pos()), p.fset.Position(syn.End())
	rel, err := filepath.Rel(p.root, from.Filename)
	if err != nil || strings.HasPrefix(rel, "..") {
		return span{}, false
	}
	return span{filepath.ToSlash(rel), from.Line, from.Column, until.Line, until.Column}, true
}

// callPath is the call path of one run from the function named from to
// each of the functions named in to that ran: the shortest chain of
// calls, in the fewest files, through the module's functions that ran a
// statement in blocks (and any function outside the module).
type callPath struct {
	sink  string
	chain []string // function (file), from the caller down
	files []string
}

func (p *program) paths(blocks map[string]bool, from string, to []string) ([]callPath, error) {
	ranSpans := map[string][]span{} // by file
	for b := range blocks {
		if s, ok := blockSpan(b); ok {
			ranSpans[s.file] = append(ranSpans[s.file], s)
		}
	}
	type info struct {
		file string
		ran  bool
	}
	infos := map[*callgraph.Node]info{}
	var start *callgraph.Node
	sinks := map[*callgraph.Node]string{}
	for fn, n := range p.graph.Nodes {
		if fn == nil {
			continue
		}
		s, in := p.place(fn)
		i := info{}
		if in {
			i.file = s.file
			i.ran = slices.ContainsFunc(ranSpans[s.file], s.contains)
		}
		infos[n] = i
		name := qualified(fn)
		if name == from && i.ran {
			start = n
		}
		if i.ran && slices.Contains(to, name) {
			sinks[n] = name
		}
	}
	if start == nil {
		return nil, fmt.Errorf("%s did not run", from)
	}
	// Dijkstra: a call into another file of the module costs a file, any
	// call a step; a function of the module that did not run is no way.
	const fileCost = 1 << 20
	dist := map[*callgraph.Node]int{start: 0}
	prev := map[*callgraph.Node]*callgraph.Node{}
	lastFile := map[*callgraph.Node]string{start: infos[start].file}
	q := &queue{{start, 0}}
	for q.Len() > 0 {
		it := heap.Pop(q).(item)
		if it.d > dist[it.n] {
			continue
		}
		for _, e := range it.n.Out {
			callee := e.Callee
			ci := infos[callee]
			if ci.file != "" && !ci.ran {
				continue
			}
			d, file := it.d+1, lastFile[it.n]
			if ci.file != "" {
				if ci.file != file {
					d += fileCost
				}
				file = ci.file
			}
			if old, seen := dist[callee]; !seen || d < old {
				dist[callee], prev[callee], lastFile[callee] = d, it.n, file
				heap.Push(q, item{callee, d})
			}
		}
	}
	var out []callPath
	for n, name := range sinks {
		if _, ok := dist[n]; !ok {
			return nil, fmt.Errorf("no call path from %s to %s among what ran", from, name)
		}
		var chain []*callgraph.Node
		for c := n; c != nil; c = prev[c] {
			chain = append([]*callgraph.Node{c}, chain...)
		}
		cp := callPath{sink: name}
		seen := map[string]bool{}
		for _, c := range chain {
			f := infos[c].file
			label := shortName(c.Func)
			if f != "" {
				label += " (" + f + ")"
				if !seen[f] {
					seen[f] = true
					cp.files = append(cp.files, f)
				}
			}
			cp.chain = append(cp.chain, label)
		}
		out = append(out, cp)
	}
	return out, nil
}

// filesOf are the files, counted as count groups them, on the call
// paths of cps to the functions of sinks.
func filesOf(cps []callPath, sinks []string) []string {
	on := map[string]bool{}
	for _, cp := range cps {
		if slices.Contains(sinks, cp.sink) {
			for _, f := range cp.files {
				on[f] = true
			}
		}
	}
	counted, _ := count(slices.Sorted(maps.Keys(on)))
	return counted
}

// qualified is fn's name as the sinks are written: "pkg.Func" or
// "pkg.Type.Method", with pkg the path inside the module.
func qualified(fn *ssa.Function) string {
	if fn.Pkg == nil || fn.Parent() != nil {
		return ""
	}
	pkg := strings.TrimPrefix(fn.Pkg.Pkg.Path(), module)
	if recv := fn.Signature.Recv(); recv != nil {
		t := recv.Type().String()
		t = t[strings.LastIndex(t, ".")+1:]
		return pkg + "." + t + "." + fn.Name()
	}
	return pkg + "." + fn.Name()
}

func shortName(fn *ssa.Function) string {
	s := fn.String()
	return strings.ReplaceAll(s, module, "")
}

type item struct {
	n *callgraph.Node
	d int
}

type queue []item

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].d < q[j].d }
func (q queue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)        { *q = append(*q, x.(item)) }
func (q *queue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
