package oidc

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestIdentityFromOddClaims: claims of the wrong type or pointers to
// nothing give a clear error or no roles, never a panic.
func TestIdentityFromOddClaims(t *testing.T) {
	for _, tc := range []struct {
		name        string
		claims      string
		user, roles string // claim names or JSON pointers
		want        []string
		wantErr     bool
	}{
		{"list", `{"u":"alice","r":["a","b"]}`, "u", "r", []string{"a", "b"}, false},
		{"one string", `{"u":"alice","r":"a"}`, "u", "r", []string{"a"}, false},
		{"null roles", `{"u":"alice","r":null}`, "u", "r", nil, false},
		{"missing roles", `{"u":"alice"}`, "u", "r", nil, false},
		{"roles a number", `{"u":"alice","r":42}`, "u", "r", nil, true},
		{"roles an object", `{"u":"alice","r":{"a":true}}`, "u", "r", nil, true},
		{"a role not a string", `{"u":"alice","r":["a",{"b":1}]}`, "u", "r", nil, true},
		{"pointer", `{"u":"alice","ra":{"cli":{"roles":["x"]}}}`, "u", "/ra/cli/roles", []string{"x"}, false},
		{"pointer escapes", `{"u":"alice","a/b":{"c~d":["x"]}}`, "u", "/a~1b/c~0d", []string{"x"}, false},
		{"pointer index", `{"u":"alice","g":[["x"],["y"]]}`, "u", "/g/1", []string{"y"}, false},
		{"pointer to nothing", `{"u":"alice","ra":{}}`, "u", "/ra/cli/roles", nil, false},
		{"pointer through a string", `{"u":"alice","ra":"s"}`, "u", "/ra/cli", nil, false},
		{"pointer index out of range", `{"u":"alice","g":[]}`, "u", "/g/0", nil, false},
		{"pointer negative index", `{"u":"alice","g":["x"]}`, "u", "/g/-1", nil, false},
		{"pointer root", `{"u":"alice","":["x"]}`, "u", "/", []string{"x"}, false},
		{"user claim a number", `{"u":7,"r":["a"]}`, "u", "r", nil, true},
		{"user claim missing", `{"r":["a"]}`, "u", "r", nil, true},
		{"user claim by pointer", `{"x":{"u":"alice"}}`, "/x/u", "r", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var claims map[string]any
			if err := json.Unmarshal([]byte(tc.claims), &claims); err != nil {
				t.Fatal(err)
			}
			id, err := IdentityFrom("https://sso", "sub", time.Now(), claims, tc.user, tc.roles)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidIDToken) {
					t.Fatalf("err = %v, want ErrInvalidIDToken", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, id.Roles); diff != "" {
				t.Errorf("roles (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzIdentityFrom: any claims and any claim names or pointers give an
// identity or ErrInvalidIDToken, never a panic.
//
//	go test -run '^$' -fuzz FuzzIdentityFrom -fuzztime 30s ./internal/oidc
func FuzzIdentityFrom(f *testing.F) {
	f.Add(`{"cern_upn":"alice","cern_roles":["a"]}`, "cern_upn", "cern_roles")
	f.Add(`{"u":"alice","ra":{"cli":{"roles":["x",1]}}}`, "u", "/ra/cli/roles")
	f.Add(`{"u":{"v":"w"},"g":[[],{}]}`, "/u/v", "/g/01")
	f.Add(`{"":{"":[""]}}`, "/", "//")
	f.Fuzz(func(t *testing.T, claimsJSON, user, roles string) {
		var claims map[string]any
		if json.Unmarshal([]byte(claimsJSON), &claims) != nil {
			return
		}
		id, err := IdentityFrom("https://sso", "sub", time.Time{}, claims, user, roles)
		if err != nil {
			if !errors.Is(err, ErrInvalidIDToken) {
				t.Fatalf("error is not ErrInvalidIDToken: %v", err)
			}
			return
		}
		if id.User == "" {
			t.Fatal("an identity without a user")
		}
	})
}
