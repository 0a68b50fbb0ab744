package tokenhelper

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestAddressFlags: every spelling of an address flag anywhere on the
// line is listed, after "--" and after arguments too (the helper does
// not emulate the vault CLI's parser: it refuses any foreign one).
func TestAddressFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"token", "lookup"}, nil},
		{[]string{"token", "lookup", "-address=http://x:1"}, []string{"http://x:1"}},
		{[]string{"--address=http://x:1", "status"}, []string{"http://x:1"}},
		{[]string{"kv", "get", "-address", "http://x:2", "secret/a"}, []string{"http://x:2"}},
		{[]string{"kv", "get", "--address", "http://x:2", "-address=http://x:3", "secret/a"}, []string{"http://x:2", "http://x:3"}},
		{[]string{"status", "-agent-address=http://a:1"}, []string{"http://a:1"}},
		{[]string{"status", "--agent-address", "http://a:2"}, []string{"http://a:2"}},
		{[]string{"kv", "put", "secret/a", "--", "-address=http://x:1"}, []string{"http://x:1"}},
		{[]string{"read", "-field", "--", "-address=http://x:1", "p"}, []string{"http://x:1"}},
		{[]string{"read", "-address", "http://o:1", "-field", "-address=http://x:1", "p"}, []string{"http://o:1", "http://x:1"}},
		{[]string{"status", "-address"}, []string{""}},
		{[]string{"status", "-addressx=http://x:1"}, nil},
	} {
		if got := AddressFlags(c.args); !slices.Equal(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.args, got, c.want)
		}
	}
}

// TestRefusal: the client's environment and command line decide.
func TestRefusal(t *testing.T) {
	own := "http://vault.example:8200"
	for _, c := range []struct {
		name   string
		env    map[string]string
		args   []string
		vault  string
		refuse bool
	}{
		{"own", map[string]string{"VAULT_ADDR": own}, []string{"token", "lookup"}, own, false},
		{"own in another spelling", map[string]string{"VAULT_ADDR": "HTTP://vault.example:8200/"}, []string{"-address=http://VAULT.example:8200"}, own, false},
		{"no VAULT_ADDR", map[string]string{}, nil, own, true},
		{"other VAULT_ADDR", map[string]string{"VAULT_ADDR": "http://other:8200"}, nil, own, true},
		{"agent", map[string]string{"VAULT_ADDR": own, "VAULT_AGENT_ADDR": own}, nil, own, true},
		{"VAULT_PROXY_ADDR", map[string]string{"VAULT_ADDR": own, "VAULT_PROXY_ADDR": "http://127.0.0.1:1"}, nil, own, true},
		{"VAULT_HTTP_PROXY", map[string]string{"VAULT_ADDR": own, "VAULT_HTTP_PROXY": "http://127.0.0.1:1"}, nil, own, true},
		{"VAULT_SRV_LOOKUP", map[string]string{"VAULT_ADDR": own, "VAULT_SRV_LOOKUP": "true"}, nil, own, true},
		{"http_proxy, http Vault", map[string]string{"VAULT_ADDR": own, "http_proxy": "http://p:3128"}, nil, own, true},
		{"ALL_PROXY", map[string]string{"VAULT_ADDR": own, "ALL_PROXY": "socks5://p:1080"}, nil, own, true},
		{"HTTPS_PROXY, http Vault", map[string]string{"VAULT_ADDR": own, "HTTPS_PROXY": "http://p:3128"}, nil, own, false},
		{"HTTPS_PROXY, https Vault", map[string]string{"VAULT_ADDR": "https://vault.example", "HTTPS_PROXY": "http://p:3128"}, nil, "https://vault.example", true},
		{"HTTP_PROXY, loopback Vault", map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200", "HTTP_PROXY": "http://p:3128"}, nil, "http://127.0.0.1:8200", false},
		{"flag after the path", map[string]string{"VAULT_ADDR": own}, []string{"read", "-address=http://o:1", "p", "-address=" + own}, own, true},
		{"after --", map[string]string{"VAULT_ADDR": own}, []string{"read", "-field", "--", "-address=http://o:1", "p"}, own, true},
		{"agent flag", map[string]string{"VAULT_ADDR": own}, []string{"status", "-agent-address=http://127.0.0.1:8100"}, own, true},
		{"flag without value", map[string]string{"VAULT_ADDR": own}, []string{"status", "-address"}, own, true},
	} {
		why := Refusal(func(k string) string { return c.env[k] }, c.args, c.vault)
		if (why != "") != c.refuse {
			t.Errorf("%s: refusal %q, want refused %v", c.name, why, c.refuse)
		}
	}
}

// TestFindClientPassesShells: from a process that two shells run, the
// client is the first program above them (here a copy of the test
// binary, "the client"), with its own arguments and environment, not
// the shells', whatever its name.
func TestFindClientPassesShells(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	switch os.Getenv("TOKENHELPER_TEST_ROLE") {
	case "helper":
		c, err := FindClient()
		if err != nil {
			os.Stdout.WriteString("error: " + err.Error())
			os.Exit(0)
		}
		os.Stdout.WriteString(strconv.Itoa(c.PID) + " " + c.Getenv("TOKENHELPER_TEST_MARK") + " " + strings.Join(c.Args, ","))
		os.Exit(0)
	case "client":
		// Not exec'd by the shells: "; true" keeps each one as a
		// parent. The shells change the mark; the client's own value
		// must come back.
		script := "TOKENHELPER_TEST_MARK=shell TOKENHELPER_TEST_ROLE=helper; export TOKENHELPER_TEST_MARK TOKENHELPER_TEST_ROLE; " + exe + " -test.run=TestFindClientPassesShells; true"
		out, err := exec.Command("sh", "-c", "bash -c '"+script+"'; true").Output()
		if err != nil {
			os.Stdout.WriteString("error: could not run the helper: " + err.Error())
			os.Exit(0)
		}
		want := strconv.Itoa(os.Getpid()) + " client " + strings.Join(os.Args[1:], ",")
		if string(out) != want {
			os.Stdout.WriteString("got " + strconv.Quote(string(out)) + ", want " + strconv.Quote(want))
		} else {
			os.Stdout.WriteString("ok")
		}
		os.Exit(0)
	}
	if runtime.GOOS != "linux" {
		if _, err := FindClient(); err != ErrNoProcessView {
			t.Errorf("FindClient off Linux: %v, want ErrNoProcessView", err)
		}
		return
	}
	cmd := exec.Command(exe, "-test.run=TestFindClientPassesShells", "-test.v=false")
	cmd.Env = append(os.Environ(), "TOKENHELPER_TEST_ROLE=client", "TOKENHELPER_TEST_MARK=client")
	out, err := cmd.Output()
	if err != nil || string(out) != "ok" {
		t.Errorf("%s (%v)", out, err)
	}
}
