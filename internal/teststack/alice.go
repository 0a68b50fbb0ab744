package teststack

import "context"

// ALICEData is what the shipped policies/ expect to find beside what
// `broker apply` makes, as ALICE's clusters have it: the Nomad namespace
// ci (of the CI jobs that ci-user may read) and the KV version 2 mount
// kv/ with a CI secret at kv/ci/github (field token, a made-up value).
// `make demo` and the new-user walkthrough of README.md make it, so the
// README's examples run on their stack.
func (s *Stack) ALICEData(ctx context.Context) error {
	if err := s.Nomad.Client().Do(ctx, "POST", "/v1/namespace", map[string]any{"Name": "ci", "Description": "CI jobs"}, nil); err != nil {
		return err
	}
	if err := s.EnsureKV(ctx, "kv", 2); err != nil {
		return err
	}
	return s.PutKV(ctx, "kv", 2, "ci/github", map[string]any{"token": "demo-github-token"})
}
