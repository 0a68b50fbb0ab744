package store

import (
	"fmt"
	"strings"

	"github.com/godbus/dbus/v5"
)

// Profiles lists the profiles that have an item of service in the Secret
// Service, by its attributes (go-keyring's items carry "service" and
// "username"), locked items included: what the index lists, and also what
// an index written by an older version, or by a store on another state
// directory with its own index lock, may have lost. Every call carries
// NO_AUTO_START.
func (o osKeyring) Profiles(service string) ([]string, error) {
	if err := o.reachable(); err != nil {
		return nil, err
	}
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return nil, fmt.Errorf("could not connect to the session bus: %w", err)
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return nil, fmt.Errorf("could not authenticate to the session bus: %w", err)
	}
	if err := conn.Hello(); err != nil {
		return nil, fmt.Errorf("could not greet the session bus: %w", err)
	}
	svc := conn.Object(ssDest, ssPath)
	// A property first, as in fastSecret: gnome-keyring must know the
	// client before a Service call.
	var colls dbus.Variant
	if err := svc.Call("org.freedesktop.DBus.Properties.Get", dbus.FlagNoAutoStart, ssIface, "Collections").Store(&colls); err != nil {
		return nil, fmt.Errorf("could not reach the Secret Service: %w", err)
	}
	var unlocked, locked []dbus.ObjectPath
	if err := svc.Call(ssIface+".SearchItems", dbus.FlagNoAutoStart, map[string]string{"service": service}).Store(&unlocked, &locked); err != nil {
		return nil, fmt.Errorf("could not search the Secret Service: %w", err)
	}
	var out []string
	for _, item := range append(unlocked, locked...) {
		var v dbus.Variant
		if conn.Object(ssDest, item).Call("org.freedesktop.DBus.Properties.Get", dbus.FlagNoAutoStart,
			"org.freedesktop.Secret.Item", "Attributes").Store(&v) != nil {
			continue
		}
		attrs, _ := v.Value().(map[string]string)
		if attrs["service"] != service {
			continue
		}
		if p, ok := strings.CutPrefix(attrs["username"], "profile:"); ok && ValidProfileName(p) {
			out = append(out, p)
		}
	}
	return out, nil
}
