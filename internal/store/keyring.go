package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/alisw/alilogin/internal/filelock"
)

// keyringService is the service name of every alilogin keyring item.
const keyringService = "alilogin"

// keyName is the one place that names keyring items: "profile:<name>" for
// a record and "index" for the list of profiles (keyrings cannot list).
func keyName(profile string) string {
	if profile == "" {
		return "index"
	}
	return "profile:" + profile
}

// DefaultKeyringTimeout bounds each keyring call: a Secret Service that
// waits for an unlock prompt nobody sees must not hang the command.
const DefaultKeyringTimeout = 5 * time.Second

// ErrTooLarge: the item is larger than the keyring accepts.
var ErrTooLarge = errors.New("login record too large for the OS keyring")

// UnavailableError: the keyring could not be reached or refused to work.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return fmt.Sprintf("OS keyring unavailable: %v", e.Err) }
func (e *UnavailableError) Unwrap() error { return e.Err }

// keyringAPI is what the Keyring needs of go-keyring.
type keyringAPI interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// osKeyring is go-keyring, behind a check that it can reach the keyring
// without starting anything (sessionBus): on Linux, without a session bus
// the D-Bus library would launch one (dbus-launch), the bus would activate
// gnome-keyring-daemon, and both would outlive alilogin, two daemons per
// call of a script's `alilogin token`.
//
// With a session bus but no Secret Service on it, the bus would activate
// one (gnome-keyring-daemon) on go-keyring's first call: secretService
// asks first.
type osKeyring struct{ getenv func(string) string }

func (o osKeyring) reachable() error {
	if err := sessionBus(o.getenv); err != nil {
		return err
	}
	return secretService()
}

func (o osKeyring) Get(s, u string) (string, error) {
	if err := o.reachable(); err != nil {
		return "", err
	}
	return keyring.Get(s, u)
}

func (o osKeyring) Set(s, u, p string) error {
	if err := o.reachable(); err != nil {
		return err
	}
	return keyring.Set(s, u, p)
}

func (o osKeyring) Delete(s, u string) error {
	if err := o.reachable(); err != nil {
		return err
	}
	return keyring.Delete(s, u)
}

// Keyring keeps records in the OS keyring, one item per profile.
type Keyring struct {
	api     keyringAPI
	timeout time.Duration
	// maxItem, when > 0, refuses items larger than this many bytes with
	// ErrTooLarge (go-keyring does so by itself on Windows and macOS).
	maxItem int
	// indexLock, when set, is the lock file that makes each
	// read-modify-write of the index one step for all processes of the
	// user on this state directory: two logins of different profiles at
	// once would otherwise lose one from the index, and `logout --all`
	// would skip it.
	indexLock string
	// lockWaits, when set, is called when the index lock is held by
	// another and this Keyring starts to wait for it (tests).
	lockWaits func()
	// fastEnv, when set (Open sets it), is the environment of the fast
	// Secret Service read and rewrite (fastread_linux.go): Get tries it
	// first, and Put rewrites a record that Get last read that way the
	// fast way. Without it the Keyring is go-keyring only.
	fastEnv func(string) string
	// fast is the Secret Service connection of the fast read and
	// rewrite, kept open between calls (fastread_linux.go).
	fast ssConn
	mu   sync.Mutex
	// readFast: the profiles whose last Get was the fast read.
	readFast map[string]bool
}

// withFastPath turns the fast read and rewrite on.
func (k *Keyring) withFastPath(getenv func(string) string) {
	k.api = osKeyring{getenv: getenv}
	k.fastEnv = getenv
}

func (k *Keyring) setReadFast(profile string, fast bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.readFast == nil {
		k.readFast = map[string]bool{}
	}
	k.readFast[profile] = fast
}

func (k *Keyring) wasReadFast(profile string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.readFast[profile]
}

// indexLockWait bounds the wait for the index lock: its holder makes at
// most two keyring calls, each bounded by the keyring timeout.
func (k *Keyring) indexLockWait() time.Duration { return 2*k.timeout + time.Second }

// lockIndex takes the index lock (a no-op without indexLock).
func (k *Keyring) lockIndex() (unlock func(), err error) {
	if k.indexLock == "" {
		return func() {}, nil
	}
	if err := os.MkdirAll(filepath.Dir(k.indexLock), 0o700); err != nil {
		return nil, fmt.Errorf("could not lock the keyring index: %w", err)
	}
	l, err := filelock.Acquire(context.Background(), k.indexLock, k.indexLockWait(), 5*time.Millisecond, k.lockWaits)
	if errors.Is(err, filelock.ErrTimeout) {
		err = fmt.Errorf("another alilogin held it for more than %s", k.indexLockWait())
	}
	if err != nil {
		return nil, fmt.Errorf("could not lock the keyring index %s: %w", k.indexLock, err)
	}
	return func() { _ = l.Release() }, nil
}

// NewKeyring returns the OS keyring store. maxItem > 0 caps item size.
func NewKeyring(timeout time.Duration, maxItem int) *Keyring {
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	return &Keyring{api: osKeyring{getenv: os.Getenv}, timeout: timeout, maxItem: maxItem}
}

// call runs f with the timeout and maps go-keyring's errors to ours. After
// a timeout f's goroutine may still finish; its result is dropped.
func call[T any](k *Keyring, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(k.timeout):
		var zero T
		return zero, &UnavailableError{Err: fmt.Errorf("no answer within %s", k.timeout)}
	}
	switch {
	case r.err == nil:
		return r.v, nil
	case errors.Is(r.err, keyring.ErrNotFound):
		return r.v, ErrNotFound
	case errors.Is(r.err, keyring.ErrSetDataTooBig):
		return r.v, ErrTooLarge
	default:
		return r.v, &UnavailableError{Err: r.err}
	}
}

// do is call for functions without a value.
func (k *Keyring) do(f func() error) error {
	_, err := call(k, func() (struct{}, error) { return struct{}{}, f() })
	return err
}

func (k *Keyring) get(key string) ([]byte, error) {
	s, err := call(k, func() (string, error) { return k.api.Get(keyringService, key) })
	return []byte(s), err
}

func (k *Keyring) set(key string, b []byte) error {
	if k.maxItem > 0 && len(b) > k.maxItem {
		return ErrTooLarge
	}
	return k.do(func() error { return k.api.Set(keyringService, key, string(b)) })
}

// Get reads the profile's record: with the fast path, through the fast
// Secret Service read when it can, else through go-keyring.
func (k *Keyring) Get(profile string) (*Record, error) {
	if err := checkProfile(profile); err != nil {
		return nil, err
	}
	if k.fastEnv != nil {
		r, ok, err := k.fast.get(k.fastEnv, profile)
		k.setReadFast(profile, ok && err == nil)
		if ok {
			return r, err
		}
	}
	b, err := k.get(keyName(profile))
	if err != nil {
		return nil, err
	}
	return decode(profile, "the OS keyring", b)
}

// Put writes the record and adds its profile to the index. A record
// that Get last read through the fast read is in the keyring, and so in
// the index: it is rewritten the fast way when that works.
func (k *Keyring) Put(r *Record) error {
	if err := checkProfile(r.Profile); err != nil {
		return err
	}
	if k.fastEnv != nil && k.wasReadFast(r.Profile) && k.fast.update(k.fastEnv, r) {
		return nil
	}
	b, err := encode(r)
	if err != nil {
		return err
	}
	if err := k.set(keyName(r.Profile), b); err != nil {
		return err
	}
	return k.updateIndex(func(l []string) []string {
		if !slices.Contains(l, r.Profile) {
			l = append(l, r.Profile)
		}
		return l
	})
}

// Delete removes the record; ErrNotFound when there was none.
func (k *Keyring) Delete(profile string) error {
	if err := checkProfile(profile); err != nil {
		return err
	}
	err := k.do(func() error { return k.api.Delete(keyringService, keyName(profile)) })
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if ierr := k.updateIndex(func(l []string) []string {
		return slices.DeleteFunc(l, func(p string) bool { return p == profile })
	}); ierr != nil && err == nil {
		return ierr
	}
	return err
}

// profileSearcher is a keyring API that can also list the profiles that
// have an item, by attribute (the Secret Service; osKeyring on Linux).
type profileSearcher interface {
	Profiles(service string) ([]string, error)
}

// List returns the profiles in the index and, where the keyring can be
// searched, those that have an item the index lost. A failed search
// leaves the index's answer.
func (k *Keyring) List() ([]string, error) {
	l, err := k.listIndex()
	if err != nil {
		return nil, err
	}
	if s, ok := k.api.(profileSearcher); ok {
		if found, err := call(k, func() ([]string, error) { return s.Profiles(keyringService) }); err == nil {
			l = append(l, found...)
			slices.Sort(l)
			l = slices.Compact(l)
		}
	}
	return l, nil
}

func (k *Keyring) listIndex() ([]string, error) {
	b, err := k.get(keyName(""))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, nil // a broken index lists nothing; records stay readable
	}
	slices.Sort(l)
	return l, nil
}

// updateIndex rewrites the index with f, under the index lock.
func (k *Keyring) updateIndex(f func([]string) []string) error {
	unlock, err := k.lockIndex()
	if err != nil {
		return err
	}
	defer unlock()
	l, err := k.listIndex()
	if err != nil {
		return err
	}
	before := slices.Clone(l)
	l = f(l)
	if slices.Equal(before, l) && len(l) > 0 {
		return nil // unchanged: spare the keyring a write
	}
	if len(l) == 0 {
		err := k.do(func() error { return k.api.Delete(keyringService, keyName("")) })
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	b, _ := json.Marshal(l)
	return k.set(keyName(""), b)
}
