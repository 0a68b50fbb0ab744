package store

// This file is the fast read of `alilogin token` on a cached token: the
// Secret Service round trips are the whole cost of that path, so it asks
// for the record in three D-Bus exchanges instead of go-keyring's seven,
// pipelining what does not depend on an answer. Anything unusual (no
// session bus address, a locked item, no such item, an error) makes it
// give up, and the caller reads through the Store as usual, which unlocks,
// prompts, falls back to the file store and reports errors.

import (
	"os"
	"path/filepath"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	ssDest       = "org.freedesktop.secrets"
	ssPath       = "/org/freedesktop/secrets"
	ssLoginColl  = "/org/freedesktop/secrets/collection/login" // where go-keyring keeps its items
	ssIface      = "org.freedesktop.Secret.Service"
	fastReadWait = 2 * time.Second
)

// FastKeyringGet reads the profile's record from the Secret Service, as
// Keyring.Get would, in fewer round trips. ok is false when it could not,
// for any reason; err is set only for a record that was read and is
// corrupt.
func FastKeyringGet(profile string) (r *Record, ok bool, err error) {
	if checkProfile(profile) != nil || !sessionBusConfigured() {
		return nil, false, nil
	}
	b, ok := fastSecret(keyringService, keyName(profile))
	if !ok {
		return nil, false, nil
	}
	r, err = decode(profile, "the OS keyring", b)
	return r, true, err
}

func sessionBusConfigured() bool {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return true
	}
	d := os.Getenv("XDG_RUNTIME_DIR")
	if d == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(d, "bus"))
	return err == nil
}

type ssSecret struct {
	Session     dbus.ObjectPath
	Parameters  []byte
	Value       []byte
	ContentType string
}

// wait waits for a pipelined call, bounded by deadline.
func wait(c *dbus.Call, deadline <-chan time.Time) bool {
	select {
	case <-c.Done:
		return c.Err == nil
	case <-deadline:
		return false
	}
}

func fastSecret(service, user string) ([]byte, bool) {
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		return nil, false
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return nil, false
	}
	deadline := time.After(fastReadWait)
	// Hello, the search and the session, sent at once: the bus handles a
	// connection's messages in order, so Hello still comes first.
	hello := conn.BusObject().Go("org.freedesktop.DBus.Hello", 0, nil)
	search := conn.Object(ssDest, ssLoginColl).Go("org.freedesktop.Secret.Collection.SearchItems", 0, nil,
		map[string]string{"username": user, "service": service})
	session := conn.Object(ssDest, ssPath).Go(ssIface+".OpenSession", 0, nil, "plain", dbus.MakeVariant(""))
	if !wait(hello, deadline) || !wait(search, deadline) || !wait(session, deadline) {
		return nil, false
	}
	var items []dbus.ObjectPath
	var out dbus.Variant
	var sess dbus.ObjectPath
	if search.Store(&items) != nil || len(items) == 0 || session.Store(&out, &sess) != nil {
		return nil, false
	}
	get := conn.Object(ssDest, ssPath).Go(ssIface+".GetSecrets", 0, nil, items[:1], sess)
	ok := wait(get, deadline)
	conn.Object(ssDest, sess).Go("org.freedesktop.Secret.Session.Close", dbus.FlagNoReplyExpected, nil)
	if !ok {
		return nil, false // e.g. locked: the slow path unlocks
	}
	var secrets map[dbus.ObjectPath]ssSecret
	if get.Store(&secrets) != nil {
		return nil, false
	}
	s, found := secrets[items[0]]
	if !found {
		return nil, false
	}
	return s.Value, true
}
