package main

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/hashicorp/hcl/v2"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/termtext"
)

// validateJSON is what `broker validate --json` prints, for CI pipelines
// (docs/admin-guide.md): every error, or the warnings of valid files.
type validateJSON struct {
	Dir         string           `json:"dir"`
	Valid       bool             `json:"valid"`
	Diagnostics []jsonDiagnostic `json:"diagnostics"`
	// Counts are what the valid files declare.
	Counts *validateCounts `json:"counts,omitempty"`
}

// jsonDiagnostic is one problem: where (file, 1-based line and column;
// absent when the problem is not in a file), how bad, and what.
type jsonDiagnostic struct {
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Severity string `json:"severity"` // "error" or "warning"
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	// Message is the text form's message: summary: detail.
	Message string `json:"message"`
}

type validateCounts struct {
	Profiles       int `json:"profiles"`
	Roles          int `json:"roles"`
	VaultPolicies  int `json:"vault_policies"`
	NomadPolicies  int `json:"nomad_policies"`
	ConsulPolicies int `json:"consul_policies"`
}

// runValidateJSON is validate --json: the answer on stdout only; exit 1
// when the files are invalid, 0 otherwise (with warnings or not).
func runValidateJSON(o ValidateOptions, stdout io.Writer) error {
	out := validateJSON{Dir: o.Dir, Diagnostics: []jsonDiagnostic{}}
	cfg, err := policy.Load(o.Dir)
	var perr *policy.Error
	switch {
	case errors.As(err, &perr):
		out.Diagnostics = diagnosticsJSON(perr.Diagnostics)
	case err != nil:
		out.Diagnostics = append(out.Diagnostics, jsonDiagnostic{File: o.Dir, Severity: "error", Summary: err.Error(), Message: err.Error()})
	default:
		out.Valid = true
		out.Diagnostics = diagnosticsJSON(cfg.WarningDiagnostics)
		out.Counts = &validateCounts{Profiles: len(cfg.Profiles), Roles: len(cfg.Roles),
			VaultPolicies: len(cfg.VaultPolicies), NomadPolicies: len(cfg.NomadPolicies), ConsulPolicies: len(cfg.ConsulPolicies)}
	}
	b, jerr := json.MarshalIndent(out, "", "  ")
	if jerr != nil {
		return jerr
	}
	// The files' own text is in the messages: safe on a terminal too.
	if _, werr := io.WriteString(stdout, termtext.EscapeJSON(b)+"\n"); werr != nil {
		return werr
	}
	if !out.Valid {
		return cmdroot.Silent(exitError)
	}
	return nil
}

func diagnosticsJSON(diags hcl.Diagnostics) []jsonDiagnostic {
	out := []jsonDiagnostic{}
	for _, d := range diags {
		j := jsonDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail, Message: d.Summary}
		if d.Severity == hcl.DiagWarning {
			j.Severity = "warning"
		}
		if d.Detail != "" {
			j.Message += ": " + d.Detail
		}
		if d.Subject != nil {
			j.File, j.Line, j.Column = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		out = append(out, j)
	}
	return out
}
