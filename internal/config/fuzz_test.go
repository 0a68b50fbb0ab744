package config

import (
	"golang.org/x/text/unicode/norm"
	"os"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary text to the config file parser: it must never
// panic, and a file it accepts must stay a valid file, with the new value
// read back exactly, after `alilogin setup` sets an attribute in it (the
// value may hold quotes, newlines or template introducers).
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 30s ./internal/config
func FuzzParse(f *testing.F) {
	full, err := os.ReadFile("testdata/full.hcl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full, "https://broker.example:8443")
	f.Add([]byte("broker = \"x\"\nprofile \"a\" { roles = [\"r\"] }\n"), "a\"b\n${c}%{d}\\")
	f.Add([]byte("vault {\n address = 1\n}\nvault {}\n"), "")
	f.Add([]byte("profile \"../x\" {}\n"), "\x00\x7f")
	f.Add([]byte("issuer = \"${\"\nscopes = [null]\nconsul { mount = {a = 1} }\n"), "")
	f.Add([]byte("profile \"a\" {\n agent {\n read_only = true\n }\n agent { read_only = \"x\" }\n}\n"), "")
	f.Add([]byte("\xff\xfe{"), "$${x}")

	f.Fuzz(func(t *testing.T, src []byte, value string) {
		if _, err := Parse("config.hcl", src); err != nil {
			_ = err.Error()
			return
		}
		if !utf8.ValidString(value) {
			return // HCL is UTF-8; UpdateFile's re-parse refuses such a value before writing
		}
		out, err := setAttributes("config.hcl", src, Setting{Name: "broker", Value: value})
		if err != nil {
			t.Fatalf("setAttributes on an accepted file: %v", err)
		}
		c, err := Parse("config.hcl", out)
		if err != nil {
			t.Fatalf("the file no longer parses after setting broker=%q: %v\n%s", value, err, out)
		}
		// HCL reads string literals in Unicode normal form C (hclsyntax
		// normalizes them): "\u0374" reads back as "\u02b9".
		if c.Broker != norm.NFC.String(value) {
			t.Fatalf("broker reads back as %q, want %q\n%s", c.Broker, value, out)
		}
	})
}
