package store

// This file is the fast read of `alilogin token` on a cached token: the
// Secret Service round trips are the whole cost of that path, so it asks
// for the record in three exchanges on a raw socket instead of go-keyring's
// eleven (four of them authentication): the SASL EXTERNAL handshake, BEGIN,
// Hello and a first call in one write (as sd-bus pipelines its handshake),
// then the session and the search, then GetSecrets. Messages are encoded and decoded by godbus;
// only the connection is ours, so nothing waits on godbus's reader
// goroutine. Every call to the Secret Service carries NO_AUTO_START: on
// a bus without one, it fails at once instead of activating
// gnome-keyring-daemon. Anything unusual (no unix-socket session bus, a rejected
// handshake, a locked item, no such item, an error) makes it give up, and
// the caller reads through the Store as usual, which unlocks, prompts,
// falls back to the file store and reports errors.
//
// FastKeyringUpdate is its twin for the renewal chain: it rewrites an
// existing record's item only, without the index (which already lists the
// profile), in two exchanges; the same items go-keyring writes.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
func FastKeyringGet(getenv func(string) string, profile string) (r *Record, ok bool, err error) {
	if checkProfile(profile) != nil || !sessionBusConfigured(getenv) {
		return nil, false, nil
	}
	b, ok := fastSecret(getenv, keyringService, keyName(profile))
	if !ok {
		return nil, false, nil
	}
	r, err = decode(profile, "the OS keyring", b)
	return r, true, err
}

// sessionBusConfigured: there is a session bus to talk to, and no D-Bus
// library call will start one (see sessionBus).
func sessionBusConfigured(getenv func(string) string) bool { return sessionBus(getenv) == nil }

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
func dial(getenv func(string) string) (*dbus.Conn, *dbus.Call, bool) {
	addr, ok := sessionBusSocket(getenv)
	if !ok {
		return nil, nil, false
	}
	if name, abstract := strings.CutPrefix(addr, "@"); abstract {
		addr = "unix:abstract=" + dbusEscape(name)
	} else {
		addr = "unix:path=" + dbusEscape(addr)
	}
	conn, err := dbus.Dial(addr)
	if err != nil {
		return nil, nil, false
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, nil, false
	}
	return conn, conn.BusObject().Go("org.freedesktop.DBus.Hello", 0, nil), true
}

func fastSecret(getenv func(string) string, service, user string) ([]byte, bool) {
	addr, ok := sessionBusSocket(getenv)
	if !ok {
		return nil, false
	}
	conn, err := net.DialTimeout("unix", addr, fastReadWait)
	if err != nil {
		return nil, false
	}
	defer conn.Close()
	if conn.SetDeadline(time.Now().Add(fastReadWait)) != nil {
		return nil, false
	}
	// The handshake, Hello and a harmless first call at once: the bus
	// reads a connection's bytes in order, so Hello still comes first.
	// gnome-keyring registers a client shortly after its first message; a
	// Service or Collection call that comes before fails, and OpenSession
	// made it abort in testing. Like go-keyring, ask a property first.
	var out bytes.Buffer
	fmt.Fprintf(&out, "\x00AUTH EXTERNAL %x\r\nBEGIN\r\n", strconv.Itoa(os.Geteuid()))
	if rawCall(&out, 1, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.Hello", 0) != nil ||
		rawCall(&out, 2, ssDest, ssPath, "org.freedesktop.DBus.Properties.Get", dbus.FlagNoAutoStart, ssIface, "Collections") != nil {
		return nil, false
	}
	if _, err := conn.Write(out.Bytes()); err != nil {
		return nil, false
	}
	in := bufio.NewReader(conn)
	line, err := in.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "OK ") {
		return nil, false
	}
	if replies, ok := rawReplies(in, 1, 2); !ok || replies[1] == nil || replies[2] == nil {
		return nil, false
	}
	// The session and the search.
	out.Reset()
	if rawCall(&out, 3, ssDest, ssPath, ssIface+".OpenSession", dbus.FlagNoAutoStart, "plain", dbus.MakeVariant("")) != nil ||
		rawCall(&out, 4, ssDest, ssLoginColl, "org.freedesktop.Secret.Collection.SearchItems", dbus.FlagNoAutoStart,
			map[string]string{"username": user, "service": service}) != nil {
		return nil, false
	}
	if _, err := conn.Write(out.Bytes()); err != nil {
		return nil, false
	}
	replies, ok := rawReplies(in, 3, 4)
	var alg dbus.Variant
	var sess dbus.ObjectPath
	if !ok || replies[3] == nil || dbus.Store(replies[3], &alg, &sess) != nil {
		return nil, false
	}
	// From here on the session is closed in the same write as the last
	// call, and its answer awaited too.
	var items []dbus.ObjectPath
	out.Reset()
	if replies[4] != nil && dbus.Store(replies[4], &items) == nil && len(items) > 0 {
		if rawCall(&out, 5, ssDest, ssPath, ssIface+".GetSecrets", dbus.FlagNoAutoStart, items[:1], sess) != nil {
			return nil, false
		}
	}
	if rawCall(&out, 6, ssDest, string(sess), "org.freedesktop.Secret.Session.Close", dbus.FlagNoAutoStart) != nil {
		return nil, false
	}
	if _, err := conn.Write(out.Bytes()); err != nil {
		return nil, false
	}
	if len(items) == 0 {
		rawReplies(in, 6)
		return nil, false // not found (or an error): the slow path says so
	}
	replies, ok = rawReplies(in, 5, 6)
	var secrets map[dbus.ObjectPath]ssSecret
	if !ok || replies[5] == nil || dbus.Store(replies[5], &secrets) != nil {
		return nil, false // e.g. locked: the slow path unlocks
	}
	sec, found := secrets[items[0]]
	if !found {
		return nil, false
	}
	return sec.Value, true
}

// sessionBusSocket is the session bus's unix socket: the first address of
// DBUS_SESSION_BUS_ADDRESS when it is a plain unix:path= or
// unix:abstract= one, else $XDG_RUNTIME_DIR/bus. ok is false for anything
// else (the slow path's godbus knows the rest).
func sessionBusSocket(getenv func(string) string) (string, bool) {
	a := getenv("DBUS_SESSION_BUS_ADDRESS")
	if a == "" {
		d := getenv("XDG_RUNTIME_DIR")
		if d == "" {
			return "", false
		}
		p := filepath.Join(d, "bus")
		_, err := os.Stat(p)
		return p, err == nil
	}
	a, _, _ = strings.Cut(a, ";")
	params, ok := strings.CutPrefix(a, "unix:")
	if !ok || strings.Contains(params, "%") {
		return "", false
	}
	for _, kv := range strings.Split(params, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "path":
			return v, v != ""
		case "abstract":
			return "@" + v, v != ""
		}
	}
	return "", false
}

// dbusEscape escapes a D-Bus address value: every byte but the
// optionally-escaped ones as %XX.
func dbusEscape(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("-_/.\\*", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	return b.String()
}

// rawCall appends a method call with the given serial to out.
func rawCall(out *bytes.Buffer, serial uint32, dest, path, member string, flags dbus.Flags, args ...any) error {
	i := strings.LastIndexByte(member, '.')
	m := &dbus.Message{Type: dbus.TypeMethodCall, Flags: flags, Body: args, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldDestination: dbus.MakeVariant(dest),
		dbus.FieldPath:        dbus.MakeVariant(dbus.ObjectPath(path)),
		dbus.FieldInterface:   dbus.MakeVariant(member[:i]),
		dbus.FieldMember:      dbus.MakeVariant(member[i+1:]),
	}}
	if len(args) > 0 {
		m.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(args...))
	}
	start := out.Len()
	if err := m.EncodeTo(out, binary.LittleEndian); err != nil {
		return err
	}
	// godbus sets serials only on its own connections: patch the header
	// (byte order, type, flags, version, body length, serial).
	binary.LittleEndian.PutUint32(out.Bytes()[start+8:], serial)
	return nil
}

// rawReplies reads messages until all serials have been answered,
// skipping signals, and returns the bodies of the successful replies; ok
// is false when the connection failed. It always waits for every answer:
// closing the connection while gnome-keyring still has a call of ours
// queued can make it abort.
func rawReplies(in *bufio.Reader, serials ...uint32) (bodies map[uint32][]any, ok bool) {
	bodies = make(map[uint32][]any, len(serials))
	for answered := 0; answered < len(serials); {
		m, err := dbus.DecodeMessage(in)
		if err != nil {
			return nil, false
		}
		if m.Type != dbus.TypeMethodReply && m.Type != dbus.TypeError {
			continue
		}
		v, found := m.Headers[dbus.FieldReplySerial]
		serial, isSerial := v.Value().(uint32)
		if !found || !isSerial || !slices.Contains(serials, serial) {
			continue
		}
		answered++
		if m.Type == dbus.TypeMethodReply {
			bodies[serial] = m.Body
		}
	}
	return bodies, true
}

// FastKeyringUpdate rewrites the keyring item of a record that is already
// in the keyring (read from it by this process), as Keyring.Put would but
// without rewriting the index. ok is false when it could not, for any
// reason (the caller then uses Store.Put).
func FastKeyringUpdate(getenv func(string) string, r *Record) bool {
	if checkProfile(r.Profile) != nil || !sessionBusConfigured(getenv) {
		return false
	}
	b, err := encode(r)
	if err != nil {
		return false
	}
	if m := getenv("ALILOGIN_KEYRING_MAX_BYTES"); m != "" {
		return false // the size rules are the Store's
	}
	conn, hello, ok := dial(getenv)
	if !ok {
		return false
	}
	defer conn.Close()
	deadline := time.After(fastReadWait)
	// A property first, as in fastSecret: gnome-keyring must know the
	// client before OpenSession.
	first := conn.Object(ssDest, ssPath).Go("org.freedesktop.DBus.Properties.Get", dbus.FlagNoAutoStart, nil, ssIface, "Collections")
	if !wait(hello, deadline) || !wait(first, deadline) {
		return false
	}
	session := conn.Object(ssDest, ssPath).Go(ssIface+".OpenSession", dbus.FlagNoAutoStart, nil, "plain", dbus.MakeVariant(""))
	if !wait(session, deadline) {
		return false
	}
	var out dbus.Variant
	var sess dbus.ObjectPath
	if session.Store(&out, &sess) != nil {
		return false
	}
	defer conn.Object(ssDest, sess).Go("org.freedesktop.Secret.Session.Close", dbus.FlagNoReplyExpected|dbus.FlagNoAutoStart, nil)
	user := keyName(r.Profile)
	props := map[string]dbus.Variant{
		"org.freedesktop.Secret.Item.Label":      dbus.MakeVariant("Password for '" + user + "' on '" + keyringService + "'"),
		"org.freedesktop.Secret.Item.Attributes": dbus.MakeVariant(map[string]string{"username": user, "service": keyringService}),
	}
	sec := ssSecret{Session: sess, Parameters: []byte{}, Value: b, ContentType: "text/plain; charset=utf8"}
	create := conn.Object(ssDest, ssLoginColl).Go("org.freedesktop.Secret.Collection.CreateItem", dbus.FlagNoAutoStart, nil, props, sec, true)
	if !wait(create, deadline) {
		return false
	}
	var item, prompt dbus.ObjectPath
	if create.Store(&item, &prompt) != nil || prompt != "/" {
		return false // a prompt (locked collection): the Store handles it
	}
	return true
}
