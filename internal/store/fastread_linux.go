package store

// This file is the fast read of `alilogin token` on a cached token: the
// Secret Service round trips are the whole cost of that path, so it asks
// for the record in three D-Bus exchanges instead of go-keyring's seven,
// pipelining what does not depend on an answer. Anything unusual (no
// session bus address, a locked item, no such item, an error) makes it
// give up, and the caller reads through the Store as usual, which unlocks,
// prompts, falls back to the file store and reports errors.
//
// FastKeyringUpdate is its twin for the renewal chain: it rewrites an
// existing record's item only, without the index (which already lists the
// profile), in two exchanges; the same items go-keyring writes.

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

// dial connects to the session bus and sends Hello without waiting for
// its answer.
func dial() (*dbus.Conn, *dbus.Call, bool) {
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		return nil, nil, false
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, nil, false
	}
	return conn, conn.BusObject().Go("org.freedesktop.DBus.Hello", 0, nil), true
}

func fastSecret(service, user string) ([]byte, bool) {
	conn, hello, ok := dial()
	if !ok {
		return nil, false
	}
	defer conn.Close()
	deadline := time.After(fastReadWait)
	// Hello, the search and the session, sent at once: the bus handles a
	// connection's messages in order, so Hello still comes first.
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
	ok = wait(get, deadline)
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

// FastKeyringUpdate rewrites the keyring item of a record that is already
// in the keyring (read from it by this process), as Keyring.Put would but
// without rewriting the index. ok is false when it could not, for any
// reason (the caller then uses Store.Put).
func FastKeyringUpdate(r *Record) bool {
	if checkProfile(r.Profile) != nil || !sessionBusConfigured() {
		return false
	}
	b, err := encode(r)
	if err != nil {
		return false
	}
	if m := os.Getenv("ALILOGIN_KEYRING_MAX_BYTES"); m != "" {
		return false // the size rules are the Store's
	}
	conn, hello, ok := dial()
	if !ok {
		return false
	}
	defer conn.Close()
	deadline := time.After(fastReadWait)
	session := conn.Object(ssDest, ssPath).Go(ssIface+".OpenSession", 0, nil, "plain", dbus.MakeVariant(""))
	if !wait(hello, deadline) || !wait(session, deadline) {
		return false
	}
	var out dbus.Variant
	var sess dbus.ObjectPath
	if session.Store(&out, &sess) != nil {
		return false
	}
	defer conn.Object(ssDest, sess).Go("org.freedesktop.Secret.Session.Close", dbus.FlagNoReplyExpected, nil)
	user := keyName(r.Profile)
	props := map[string]dbus.Variant{
		"org.freedesktop.Secret.Item.Label":      dbus.MakeVariant("Password for '" + user + "' on '" + keyringService + "'"),
		"org.freedesktop.Secret.Item.Attributes": dbus.MakeVariant(map[string]string{"username": user, "service": keyringService}),
	}
	sec := ssSecret{Session: sess, Parameters: []byte{}, Value: b, ContentType: "text/plain; charset=utf8"}
	create := conn.Object(ssDest, ssLoginColl).Go("org.freedesktop.Secret.Collection.CreateItem", 0, nil, props, sec, true)
	if !wait(create, deadline) {
		return false
	}
	var item, prompt dbus.ObjectPath
	if create.Store(&item, &prompt) != nil || prompt != "/" {
		return false // a prompt (locked collection): the Store handles it
	}
	return true
}
