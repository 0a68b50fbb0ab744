package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// TestQuoteAsHCLWrite: quote writes what hclwrite writes, and it reads back.
func TestQuoteAsHCLWrite(t *testing.T) {
	for _, s := range []string{"", "https://broker.example", `a"b`, `back\slash`, "new\nline\r\ttab", "${x}", "%{if}", "$${x}", "$", "%", "a$b%c",
		"\x00\x01\x1f\x7f", "é ü 日本", "trailing $", "{}"} {
		want := string(hclwrite.TokensForValue(cty.StringVal(s)).Bytes())
		if got := quote(s); got != want {
			t.Errorf("quote(%q) = %s, hclwrite %s", s, got, want)
		}
		c, err := Parse("x.hcl", []byte("broker = "+quote(s)))
		if err != nil || c.Broker != s {
			t.Errorf("quote(%q) reads back as %q, %v", s, c.Broker, err)
		}
	}
}

func TestSetAttributes(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
		set             []Setting
	}{
		{"new file", "", newFileHeader + "broker = \"https://b\"\n", []Setting{{"broker", "https://b"}}},
		{"replaced in place", "# mine\nbroker   = \"old\" # why\nstore = \"file\"\n",
			"# mine\nbroker   = \"https://b\" # why\nstore = \"file\"\n", []Setting{{"broker", "https://b"}}},
		{"appended after blocks", "vault {\n  address = \"https://v\"\n}", "vault {\n  address = \"https://v\"\n}\nbroker = \"https://b\"\ndefault_profile = \"ci\"\n",
			[]Setting{{"broker", "https://b"}, {"default_profile", "ci"}}},
		{"one replaced, one added", "default_profile = \"x\"\nbroker = \"y\"\n", "default_profile = \"ci\"\nbroker = \"https://b\"\n",
			[]Setting{{"broker", "https://b"}, {"default_profile", "ci"}}},
		{"block attribute untouched", "vault {\n  broker = \"no\"\n}\n", "vault {\n  broker = \"no\"\n}\nbroker = \"https://b\"\n", []Setting{{"broker", "https://b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := setAttributes("x.hcl", []byte(tc.src), tc.set...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := setAttributes("x.hcl", []byte("broker = "), Setting{"broker", "b"}); err == nil {
		t.Error("syntax error: no error")
	}
}

func TestUpdateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alilogin", FileName)
	if err := UpdateFile(path, Setting{"broker", "https://b"}); err != nil {
		t.Fatal(err)
	}
	if err := UpdateFile(path, Setting{"default_profile", "ci"}); err != nil {
		t.Fatal(err)
	}
	c, err := LoadFile(path)
	if err != nil || c.Broker != "https://b" || c.DefaultProfile != "ci" {
		t.Errorf("read back %+v, %v", c, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v", fi.Mode().Perm(), err)
	}
	// A file that would no longer read as a config file is left alone.
	os.WriteFile(path, []byte("colour = \"blue\"\n"), 0o600)
	if err := UpdateFile(path, Setting{"broker", "https://b"}); err == nil {
		t.Error("no error for a file with an unknown setting")
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "colour") || strings.Contains(string(b), "broker") {
		t.Errorf("file changed:\n%s", b)
	}
}
