package testutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsCiteExistingTests: every test name that docs/ (the threat
// model names the test of each promise) and README.md cite is a test
// function of the tree, so that a renamed or removed test cannot leave a
// promise pointing at nothing.
func TestDocsCiteExistingTests(t *testing.T) {
	root := filepath.Join("..", "..")
	defined := map[string]bool{}
	funcRE := regexp.MustCompile(`(?m)^func (Test[A-Za-z0-9_]*)\(`)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range funcRE.FindAllSubmatch(b, -1) {
			defined[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(defined) == 0 {
		t.Fatal("no test function found in the tree")
	}

	docs := []string{filepath.Join(root, "README.md")}
	err = filepath.WalkDir(filepath.Join(root, "docs"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			docs = append(docs, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	citeRE := regexp.MustCompile(`\bTest[A-Z][A-Za-z0-9_]*`)
	cited := 0
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, name := range citeRE.FindAllString(line, -1) {
				cited++
				if !defined[name] {
					rel, _ := filepath.Rel(root, doc)
					t.Errorf("%s:%d cites %s, which is no test of the tree", rel, i+1, name)
				}
			}
		}
	}
	if cited == 0 {
		t.Error("the docs cite no test at all: the check reads the wrong files")
	}
}
