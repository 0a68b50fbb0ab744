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
// profile); the same items go-keyring writes. A Keyring keeps its
// connection (ssConn) open between calls, so that the renewal's later
// reads and its write are one exchange each.

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
	"sync"
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
	var c ssConn
	defer c.close()
	return c.get(getenv, profile)
}

// get is FastKeyringGet on c.
func (c *ssConn) get(getenv func(string) string, profile string) (r *Record, ok bool, err error) {
	if checkProfile(profile) != nil || !sessionBusConfigured(getenv) {
		return nil, false, nil
	}
	b, ok := c.secret(getenv, keyringService, keyName(profile))
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

// ssIdle is how long an ssConn stays open without a call.
const ssIdle = 2 * time.Second

// ssConn is a raw session-bus connection to the Secret Service with a
// plain session open on it, kept between calls: a renewal reads the
// record up to three times and writes it once, and on a kept connection
// a read after the first costs one exchange (the search and GetSecrets of
// the item found last, at once) and a write one (CreateItem) instead of a
// new connection each (three exchanges a read, four a write). It is
// closed after ssIdle without a call, or at once after anything unusual
// (the next call connects again); closing the connection ends the
// session at the Secret Service. The zero value is ready to use.
type ssConn struct {
	mu     sync.Mutex
	conn   net.Conn
	in     *bufio.Reader
	serial uint32
	sess   dbus.ObjectPath
	items  map[string]dbus.ObjectPath // user -> the item its last read found
	idle   *time.Timer
}

func (c *ssConn) next() uint32 { c.serial++; return c.serial }

// close closes the connection, if open.
func (c *ssConn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop()
}

// drop closes the connection; c.mu is held.
func (c *ssConn) drop() {
	if c.idle != nil {
		c.idle.Stop()
		c.idle = nil
	}
	if c.conn != nil {
		c.conn.Close()
	}
	c.conn, c.in, c.sess, c.items = nil, nil, "", nil
}

// begin readies the connection for a call within fastReadWait: when none
// is open, it connects, authenticates and sends Hello and a harmless
// first call at once (the bus reads a connection's bytes in order, so
// Hello still comes first; gnome-keyring registers a client shortly
// after its first message, a Service or Collection call that comes
// before fails, and OpenSession made it abort in testing: like
// go-keyring, ask a property first). It returns, when it connected, the
// serial of the OpenSession to send with the caller's first calls. c.mu
// is held.
func (c *ssConn) begin(getenv func(string) string) (openSession uint32, ok bool) {
	if c.conn != nil {
		if c.conn.SetDeadline(time.Now().Add(fastReadWait)) != nil {
			c.drop()
			return 0, false
		}
		return 0, true
	}
	addr, ok := sessionBusSocket(getenv)
	if !ok {
		return 0, false
	}
	conn, err := net.DialTimeout("unix", addr, fastReadWait)
	if err != nil {
		return 0, false
	}
	c.conn, c.in, c.serial = conn, bufio.NewReader(conn), 0
	if conn.SetDeadline(time.Now().Add(fastReadWait)) != nil {
		c.drop()
		return 0, false
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "\x00AUTH EXTERNAL %x\r\nBEGIN\r\n", strconv.Itoa(os.Geteuid()))
	hello, first := c.next(), c.next()
	if rawCall(&out, hello, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.Hello", 0) != nil ||
		rawCall(&out, first, ssDest, ssPath, "org.freedesktop.DBus.Properties.Get", dbus.FlagNoAutoStart, ssIface, "Collections") != nil {
		c.drop()
		return 0, false
	}
	if _, err := conn.Write(out.Bytes()); err != nil {
		c.drop()
		return 0, false
	}
	line, err := c.in.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "OK ") {
		c.drop()
		return 0, false
	}
	if replies, ok := rawReplies(c.in, hello, first); !ok || replies[hello] == nil || replies[first] == nil {
		c.drop()
		return 0, false
	}
	return c.next(), true
}

// exchange sends out and waits for the answers to serials (every one,
// see rawReplies). On failure the connection is dropped.
func (c *ssConn) exchange(out *bytes.Buffer, serials ...uint32) (map[uint32][]any, bool) {
	if _, err := c.conn.Write(out.Bytes()); err != nil {
		c.drop()
		return nil, false
	}
	replies, ok := rawReplies(c.in, serials...)
	if !ok {
		c.drop()
	}
	return replies, ok
}

// session appends the OpenSession of a new connection to out.
func (c *ssConn) session(out *bytes.Buffer, serial uint32) error {
	return rawCall(out, serial, ssDest, ssPath, ssIface+".OpenSession", dbus.FlagNoAutoStart, "plain", dbus.MakeVariant(""))
}

// opened stores the session a new connection's OpenSession answered.
func (c *ssConn) opened(body []any) bool {
	var alg dbus.Variant
	var sess dbus.ObjectPath
	if body == nil || dbus.Store(body, &alg, &sess) != nil {
		return false
	}
	c.sess = sess
	return true
}

// done ends a call: the connection stays open for ssIdle.
func (c *ssConn) done() {
	if c.conn == nil {
		return
	}
	if c.idle != nil {
		c.idle.Reset(ssIdle)
		return
	}
	c.idle = time.AfterFunc(ssIdle, c.close)
}

// secret reads the secret of the item of service and user. ok is false
// when it could not, for any reason: not found, locked, an error.
func (c *ssConn) secret(getenv func(string) string, service, user string) (value []byte, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.done()
	openSession, ok := c.begin(getenv)
	if !ok {
		return nil, false
	}
	var out bytes.Buffer
	search := c.next()
	if openSession != 0 && c.session(&out, openSession) != nil {
		c.drop()
		return nil, false
	}
	if rawCall(&out, search, ssDest, ssLoginColl, "org.freedesktop.Secret.Collection.SearchItems", dbus.FlagNoAutoStart,
		map[string]string{"username": user, "service": service}) != nil {
		c.drop()
		return nil, false
	}
	// On a kept connection, the secret of the item the last read of user
	// found goes with the search: used when the search finds that item
	// again.
	var guess uint32
	last := c.items[user]
	if openSession == 0 && last != "" {
		guess = c.next()
		if rawCall(&out, guess, ssDest, ssPath, ssIface+".GetSecrets", dbus.FlagNoAutoStart, []dbus.ObjectPath{last}, c.sess) != nil {
			c.drop()
			return nil, false
		}
	}
	serials := []uint32{search}
	if openSession != 0 {
		serials = append(serials, openSession)
	}
	if guess != 0 {
		serials = append(serials, guess)
	}
	replies, ok := c.exchange(&out, serials...)
	if !ok || openSession != 0 && !c.opened(replies[openSession]) {
		c.drop()
		return nil, false
	}
	var items []dbus.ObjectPath
	if replies[search] == nil || dbus.Store(replies[search], &items) != nil || len(items) == 0 {
		delete(c.items, user)
		return nil, false // not found (or an error): the slow path says so
	}
	item := items[0]
	secrets, got := map[dbus.ObjectPath]ssSecret{}, false
	if guess != 0 && item == last && replies[guess] != nil && dbus.Store(replies[guess], &secrets) == nil {
		_, got = secrets[item]
	}
	if !got {
		out.Reset()
		get := c.next()
		if rawCall(&out, get, ssDest, ssPath, ssIface+".GetSecrets", dbus.FlagNoAutoStart, items[:1], c.sess) != nil {
			c.drop()
			return nil, false
		}
		replies, ok = c.exchange(&out, get)
		if !ok || replies[get] == nil || dbus.Store(replies[get], &secrets) != nil {
			return nil, false // e.g. locked: the slow path unlocks
		}
	}
	sec, found := secrets[item]
	if !found {
		return nil, false
	}
	if c.items == nil {
		c.items = map[string]dbus.ObjectPath{}
	}
	c.items[user] = item
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
	var c ssConn
	defer c.close()
	return c.update(getenv, r)
}

// update is FastKeyringUpdate on c: one exchange on a kept connection.
func (c *ssConn) update(getenv func(string) string, r *Record) bool {
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
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.done()
	openSession, ok := c.begin(getenv)
	if !ok {
		return false
	}
	if openSession != 0 {
		var out bytes.Buffer
		if c.session(&out, openSession) != nil {
			c.drop()
			return false
		}
		if replies, ok := c.exchange(&out, openSession); !ok || !c.opened(replies[openSession]) {
			c.drop()
			return false
		}
	}
	user := keyName(r.Profile)
	props := map[string]dbus.Variant{
		"org.freedesktop.Secret.Item.Label":      dbus.MakeVariant("Password for '" + user + "' on '" + keyringService + "'"),
		"org.freedesktop.Secret.Item.Attributes": dbus.MakeVariant(map[string]string{"username": user, "service": keyringService}),
	}
	sec := ssSecret{Session: c.sess, Parameters: []byte{}, Value: b, ContentType: "text/plain; charset=utf8"}
	var out bytes.Buffer
	create := c.next()
	if rawCall(&out, create, ssDest, ssLoginColl, "org.freedesktop.Secret.Collection.CreateItem", dbus.FlagNoAutoStart, props, sec, true) != nil {
		c.drop()
		return false
	}
	replies, ok := c.exchange(&out, create)
	var item, prompt dbus.ObjectPath
	if !ok || replies[create] == nil || dbus.Store(replies[create], &item, &prompt) != nil || prompt != "/" {
		return false // a prompt (locked collection): the Store handles it
	}
	return true
}
