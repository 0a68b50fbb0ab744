package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SumsFile is the name of the checksum file in dist/.
const SumsFile = "SHA256SUMS"

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("could not open %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("could not read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeSums writes dir/SHA256SUMS for names, sorted, in the format of
// sha256sum ("<hex>  <name>").
func writeSums(dir string, names []string) error {
	names = append([]string(nil), names...)
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		sum, err := sha256File(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, n)
	}
	if err := os.WriteFile(filepath.Join(dir, SumsFile), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("could not write %s: %w", SumsFile, err)
	}
	return nil
}

// readSums reads a SHA256SUMS file: name → hex.
func readSums(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("could not open %s: %w", path, err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if _, err := hex.DecodeString(sum); !ok || err != nil || len(sum) != 64 || name == "" || strings.ContainsAny(name, "/\\") {
			return nil, fmt.Errorf("could not parse %s: line %d is not \"<sha256>  <name>\"", path, n)
		}
		if _, dup := sums[name]; dup {
			return nil, fmt.Errorf("could not parse %s: %s is listed twice", path, name)
		}
		sums[name] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("could not read %s: %w", path, err)
	}
	return sums, nil
}

// verifySums checks that dir's SHA256SUMS lists exactly the other files
// in dir, each with its right checksum.
func verifySums(dir string) error {
	sums, err := readSums(filepath.Join(dir, SumsFile))
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("could not list %s: %w", dir, err)
	}
	seen := 0
	for _, e := range entries {
		if e.Name() == SumsFile {
			continue
		}
		want, ok := sums[e.Name()]
		if !ok {
			return fmt.Errorf("%s is not in %s", e.Name(), SumsFile)
		}
		got, err := sha256File(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s: sha256 %s, %s says %s", e.Name(), got, SumsFile, want)
		}
		seen++
	}
	if seen != len(sums) {
		return fmt.Errorf("%s lists %d files, %s has %d", SumsFile, len(sums), dir, seen)
	}
	return nil
}
