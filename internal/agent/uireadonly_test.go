package agent

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// uiAnswer runs readOnlyUIAnswer on a 200 JSON answer to method path.
func uiAnswer(t *testing.T, kind Kind, method, path, body string) any {
	t.Helper()
	req, _ := http.NewRequest(method, "http://x"+path, nil)
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: req}
	if err := readOnlyUIAnswer(kind, resp); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestUIReadOnlyAnswers: for a read-only browser session, Consul's
// authorize answer allows reads only, Nomad's self token is no
// management token and its policies' RulesJSON only read; other answers
// are left alone.
func TestUIReadOnlyAnswers(t *testing.T) {
	v := uiAnswer(t, Consul, "POST", "/v1/internal/acl/authorize",
		`[{"Resource":"key","Access":"read","Allow":true},{"Resource":"key","Access":"write","Allow":true},{"Resource":"key","Segment":"a/","Access":"list","Allow":true},{"Resource":"operator","Access":"write","Allow":true}]`)
	var allow []any
	for _, e := range v.([]any) {
		allow = append(allow, e.(map[string]any)["Allow"])
	}
	if want := []any{true, false, true, false}; !equalAny(allow, want) {
		t.Errorf("Consul authorize: Allow %v; want %v", allow, want)
	}

	v = uiAnswer(t, Nomad, "GET", "/v1/acl/token/self", `{"AccessorID":"a","SecretID":"","Type":"management","Policies":null}`)
	if typ := v.(map[string]any)["Type"]; typ != "client" {
		t.Errorf("Nomad self token Type %v; want client", typ)
	}

	v = uiAnswer(t, Nomad, "GET", "/v1/acl/policy/ci", `{"Name":"ci","Rules":"namespace \"default\" { policy = \"write\" }",
		"RulesJSON":{"Namespaces":[{"Name":"default","Policy":"write","Capabilities":["list-jobs","read-job","submit-job","dispatch-job","alloc-exec","read-logs","alloc-lifecycle"],
		"Variables":{"Paths":[{"PathSpec":"*","Capabilities":["write","read","list","destroy"]}]}}],"Node":{"Policy":"write"},"Agent":{"Policy":"read"},"Operator":{"Policy":"deny"}}}`)
	rules := v.(map[string]any)["RulesJSON"].(map[string]any)
	ns := rules["Namespaces"].([]any)[0].(map[string]any)
	if ns["Policy"] != "read" || !equalAny(ns["Capabilities"].([]any), []any{"list-jobs", "read-job", "read-logs"}) {
		t.Errorf("Nomad namespace rules: %v; want policy read, read capabilities only", ns)
	}
	vars := ns["Variables"].(map[string]any)["Paths"].([]any)[0].(map[string]any)["Capabilities"].([]any)
	if !equalAny(vars, []any{"read", "list"}) {
		t.Errorf("Nomad variables capabilities %v; want read list", vars)
	}
	for k, want := range map[string]string{"Node": "read", "Agent": "read", "Operator": "deny"} {
		if got := rules[k].(map[string]any)["Policy"]; got != want {
			t.Errorf("Nomad %s policy %v; want %s", k, got, want)
		}
	}
	if r := v.(map[string]any)["Rules"]; !strings.Contains(r.(string), `"write"`) {
		t.Errorf("the policy's Rules text was changed: %v", r)
	}

	// Other answers pass unchanged (not even parsed).
	req, _ := http.NewRequest("GET", "http://x/v1/kv/a", nil)
	resp := &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("not json")), Request: req}
	if err := readOnlyUIAnswer(Consul, resp); err != nil {
		t.Errorf("a KV answer: %v", err)
	}
}

func equalAny(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
