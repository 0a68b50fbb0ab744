package renew

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/atomicfile"
)

// Whether Vault can issue tokens, asked briefly and remembered (issue
// 24): a profile with a direct login asks before the chain sends Vault
// anything, so that a Vault that is stopped (it accepts connections and
// never answers), sealed or unreachable costs one short probe per
// DefaultProbeHold, not a client timeout per call.

// DefaultProbeHold is how long a failed probe is remembered.
const DefaultProbeHold = 30 * time.Second

// ErrSealed: Vault answered that it is sealed (or not initialized).
var ErrSealed = errors.New("Vault is sealed")

// VaultProbe is the short question to Vault (sys/health), a port.
type VaultProbe interface {
	// Probe returns nil when Vault can issue tokens, else an error that
	// matches ErrSealed or ErrUnreachable (no answer within its short
	// time limit).
	Probe(ctx context.Context) error
}

// FailureMemory keeps a Vault's last failed probe between processes.
type FailureMemory interface {
	// Failure is the last failure remembered for addr: when, and
	// whether Vault was sealed (else unreachable); ok false: none.
	Failure(addr string) (at time.Time, sealed, ok bool)
	Remember(addr string, at time.Time, sealed bool)
	Forget(addr string)
}

// Availability answers whether the Vault at Addr can issue tokens.
type Availability struct {
	Addr   string // the Vault's canonical address
	Probe  VaultProbe
	Memory FailureMemory // nil: nothing remembered
	Hold   time.Duration // 0: DefaultProbeHold
	Now    func() time.Time
}

// DownError: Vault cannot issue tokens now. It matches ErrSealed or
// ErrUnreachable.
type DownError struct {
	Addr       string
	Sealed     bool
	Since      time.Time // when a failure was remembered; zero: just probed
	Err        error     // the probe's error; nil when remembered
	Remembered bool
}

func (e *DownError) Error() string {
	what := "did not answer"
	if e.Sealed {
		what = "is sealed"
	}
	if e.Remembered {
		return fmt.Sprintf("Vault at %s %s at %s (not asked again for a while)", e.Addr, what, e.Since.Local().Format(time.TimeOnly))
	}
	if e.Err != nil {
		return fmt.Sprintf("Vault at %s %s: %v", e.Addr, what, e.Err)
	}
	return fmt.Sprintf("Vault at %s %s", e.Addr, what)
}

func (e *DownError) Unwrap() []error {
	s := ErrUnreachable
	if e.Sealed {
		s = ErrSealed
	}
	return []error{s, e.Err}
}

// Check returns nil when Vault can issue tokens, else a *DownError: a
// failure remembered within the hold, without asking, or the probe's,
// which is remembered. A success forgets what was remembered. A nil a,
// or one without a probe, says yes.
func (a *Availability) Check(ctx context.Context) error {
	if a == nil || a.Probe == nil {
		return nil
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	hold := a.Hold
	if hold <= 0 {
		hold = DefaultProbeHold
	}
	t := now()
	if a.Memory != nil {
		// A failure from the future (a clock set back) is not trusted.
		if at, sealed, ok := a.Memory.Failure(a.Addr); ok && !at.After(t) && t.Sub(at) < hold {
			return &DownError{Addr: a.Addr, Sealed: sealed, Since: at, Remembered: true}
		}
	}
	err := a.Probe.Probe(ctx)
	if err == nil {
		if a.Memory != nil {
			a.Memory.Forget(a.Addr)
		}
		return nil
	}
	if ctx.Err() != nil {
		return err // interrupted: nothing learnt of Vault
	}
	sealed := errors.Is(err, ErrSealed)
	if a.Memory != nil {
		a.Memory.Remember(a.Addr, t, sealed)
	}
	return &DownError{Addr: a.Addr, Sealed: sealed, Err: err}
}

// FileMemory is FailureMemory in files of Dir (the lock directory), one
// per Vault address: "<unix nanoseconds> sealed|unreachable", private.
// A file that cannot be read or written is no memory: the next call
// probes again.
type FileMemory struct{ Dir string }

func (m FileMemory) path(addr string) string {
	h := sha256.Sum256([]byte(addr))
	return filepath.Join(m.Dir, "vault-down-"+hex.EncodeToString(h[:8]))
}

func (m FileMemory) Failure(addr string) (time.Time, bool, bool) {
	b, err := os.ReadFile(m.path(addr))
	if err != nil {
		return time.Time{}, false, false
	}
	ns, what, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || (what != "sealed" && what != "unreachable") {
		return time.Time{}, false, false
	}
	return time.Unix(0, n), what == "sealed", true
}

func (m FileMemory) Remember(addr string, at time.Time, sealed bool) {
	what := "unreachable"
	if sealed {
		what = "sealed"
	}
	if os.MkdirAll(m.Dir, 0o700) == nil {
		_ = atomicfile.Write(m.path(addr), []byte(strconv.FormatInt(at.UnixNano(), 10)+" "+what+"\n"))
	}
}

func (m FileMemory) Forget(addr string) { _ = os.Remove(m.path(addr)) }
