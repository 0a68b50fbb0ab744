package tokenhelper

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/alisw/alilogin/internal/atomicfile"
)

// RefusalFile is where `vault-token-helper get` keeps why it last gave
// no token, in alilogin's state directory (mode 0600): the vault CLI
// (1.13) discards the helper's stderr when it exits 0, so the line would
// reach nobody; `alilogin status` shows it. It holds a time, a profile
// and the reason (variable names, addresses, program names), no secret.
const RefusalFile = "vault-token-helper.refusal"

// RefusalRecord is the last refusal of the token helper.
type RefusalRecord struct {
	At      time.Time `json:"at"`
	Profile string    `json:"profile,omitempty"` // "" when none was known yet
	Reason  string    `json:"reason"`
}

// maxRefusal caps what LastRefusal reads.
const maxRefusal = 16 << 10

// RecordRefusal replaces the last refusal with r, atomically.
func RecordRefusal(stateDir string, r RefusalRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if len(b) > maxRefusal {
		r.Reason = r.Reason[:maxRefusal/2] + "…"
		if b, err = json.Marshal(r); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(filepath.Join(stateDir, RefusalFile), b); err != nil {
		return fmt.Errorf("could not record the token helper's refusal: %w", err)
	}
	return nil
}

// ClearRefusal forgets the last refusal: the helper gave a token since.
// A missing file costs one failed unlink.
func ClearRefusal(stateDir string) {
	_ = os.Remove(filepath.Join(stateDir, RefusalFile))
}

// LastRefusal is the last refusal recorded since the last token given,
// nil when there is none (or it cannot be read).
func LastRefusal(stateDir string) *RefusalRecord {
	f, err := os.Open(filepath.Join(stateDir, RefusalFile))
	if err != nil {
		return nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRefusal+1))
	if err != nil || len(b) > maxRefusal {
		return nil
	}
	var r RefusalRecord
	if json.Unmarshal(b, &r) != nil || r.Reason == "" {
		return nil
	}
	return &r
}
