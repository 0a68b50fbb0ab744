package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/alisw/alilogin/internal/secret"
)

// Pending is an SSO sign-in that `alilogin login` could not turn into a
// login yet (the roles allow several profiles and nobody could choose,
// or Vault does not know the profile named), kept so that the next login
// needs no second browser sign-in. It holds an ID token and a refresh
// token: a secret like a Record, kept in the same tier with the same
// protections, under a name that is no profile's (never listed, never
// cached in the kernel keyring). There is at most one; the next login
// takes it (and uses it only while younger than PendingMaxAge, for the
// same issuer and client id), and `logout --all` revokes it.
type Pending struct {
	Issuer   string // the ID token's iss
	ClientID string // the OIDC client id it was issued to
	Subject  string
	User     string // the user claim, for the notice that it is used

	IDToken      secret.String
	RefreshToken secret.String // empty when the SSO gave none

	SignedInAt time.Time // the browser (or device) sign-in
}

// PendingMaxAge is how long a pending sign-in may stand for a browser
// sign-in.
const PendingMaxAge = 10 * time.Minute

// PendingStore keeps the one pending sign-in. Open's stores all have
// one (PendingOf).
type PendingStore interface {
	GetPending() (*Pending, error) // ErrNotFound, *CorruptError
	PutPending(p *Pending) error
	DeletePending() error // ErrNotFound when there was none
}

// PendingOf is the pending store of st: its backend's, past the kernel
// cache.
func PendingOf(st Store) (PendingStore, bool) {
	switch s := st.(type) {
	case *Cached:
		return PendingOf(s.Store)
	case authoritative:
		return PendingOf(s.Cached.Store)
	case PendingStore:
		return s, true
	}
	return nil, false
}

// pendingKey names the pending sign-in: a keyring item without the
// "profile:" prefix (so never listed as a profile) and a file name that
// is no valid profile name (so never listed by File.List).
const pendingKey = "pending-sign-in"

// pendingWhere names the pending sign-in in errors.
const pendingWhere = "the pending sign-in"

type wirePending struct {
	Version      int       `json:"version"`
	Issuer       string    `json:"issuer"`
	ClientID     string    `json:"client_id"`
	Subject      string    `json:"subject"`
	User         string    `json:"user,omitempty"`
	IDToken      string    `json:"id_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	SignedInAt   time.Time `json:"signed_in_at"`
}

func encodePending(p *Pending) ([]byte, error) {
	return json.Marshal(wirePending{Version: RecordVersion, Issuer: p.Issuer, ClientID: p.ClientID, Subject: p.Subject, User: p.User,
		IDToken: p.IDToken.Reveal(), RefreshToken: p.RefreshToken.Reveal(), SignedInAt: p.SignedInAt})
}

func decodePending(where string, b []byte) (*Pending, error) {
	var w wirePending
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, &CorruptError{Profile: pendingWhere, Where: where, Err: err}
	}
	if w.Version != RecordVersion {
		return nil, &CorruptError{Profile: pendingWhere, Where: where, Err: fmt.Errorf("unknown version %d", w.Version)}
	}
	return &Pending{Issuer: w.Issuer, ClientID: w.ClientID, Subject: w.Subject, User: w.User,
		IDToken: secret.New(w.IDToken), RefreshToken: secret.New(w.RefreshToken), SignedInAt: w.SignedInAt}, nil
}

// GetPending reads the pending sign-in from the keyring.
func (k *Keyring) GetPending() (*Pending, error) {
	b, err := k.get(pendingKey)
	if err != nil {
		return nil, err
	}
	return decodePending("the OS keyring", b)
}

// PutPending writes the pending sign-in to the keyring (not in the
// index: it is no profile).
func (k *Keyring) PutPending(p *Pending) error {
	b, err := encodePending(p)
	if err != nil {
		return err
	}
	return k.set(pendingKey, b)
}

// DeletePending removes the pending sign-in from the keyring.
func (k *Keyring) DeletePending() error {
	return k.do(func() error { return k.api.Delete(keyringService, pendingKey) })
}

// pendingPath is the pending sign-in's file: in the records directory
// (0700), with the records' protections.
func (f *File) pendingPath() string { return filepath.Join(f.Dir, "_"+pendingKey+".json") }

// GetPending reads the pending sign-in's file.
func (f *File) GetPending() (*Pending, error) {
	p := f.pendingPath()
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("could not read the pending sign-in: %w", err)
	}
	return decodePending(p, b)
}

// PutPending writes the pending sign-in's file, 0600 and atomically, as
// Put writes a record.
func (f *File) PutPending(p *Pending) error {
	b, err := encodePending(p)
	if err != nil {
		return err
	}
	return f.write(f.pendingPath(), b, "the pending sign-in")
}

// DeletePending removes the pending sign-in's file.
func (f *File) DeletePending() error {
	err := os.Remove(f.pendingPath())
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("could not delete the pending sign-in: %w", err)
	}
	return nil
}

// GetPending reads the keyring's, else the file's.
func (a *Auto) GetPending() (*Pending, error) {
	p, err := a.Keyring.GetPending()
	var ue *UnavailableError
	if err == nil || !(errors.Is(err, ErrNotFound) || errors.As(err, &ue)) {
		return p, err
	}
	return a.File.GetPending()
}

// PutPending writes to the keyring, else (no keyring, too large) to the
// file, as Put does.
func (a *Auto) PutPending(p *Pending) error {
	err := a.Keyring.PutPending(p)
	var ue *UnavailableError
	switch {
	case err == nil:
		if derr := a.File.DeletePending(); derr != nil && !errors.Is(derr, ErrNotFound) {
			return derr
		}
		return nil
	case errors.Is(err, ErrTooLarge):
		_ = a.Keyring.DeletePending()
	case errors.As(err, &ue):
	default:
		return err
	}
	return a.File.PutPending(p)
}

// DeletePending removes it from both.
func (a *Auto) DeletePending() error {
	return bothDeleted(a.Keyring.DeletePending(), a.File.DeletePending())
}
