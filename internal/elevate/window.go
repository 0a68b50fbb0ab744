package elevate

import (
	"fmt"
	"time"

	"github.com/alisw/alilogin/internal/discovery"
)

// Tier is a profile's attended tier with its durations read.
type Tier struct {
	Profile      string
	OIDCMount    string
	Role         string
	NomadRole    string
	ConsulRole   string
	Window       time.Duration // the longest window
	Uses         int           // the tier's write budget, 0: none
	MaxAge       time.Duration // 0: not said
	RedirectPath string
}

// TierOf reads the attended tier of profile from the discovery's a; nil a
// is an error that says the profile has none.
func TierOf(profile string, a *discovery.Attended) (*Tier, error) {
	if a == nil {
		return nil, fmt.Errorf("profile %s has no attended tier (the broker's policies give it none), so there is nothing to elevate to", profile)
	}
	t := &Tier{Profile: profile, OIDCMount: a.OIDCMount, Role: a.Role, NomadRole: a.NomadRole, ConsulRole: a.ConsulRole, Uses: a.Uses, RedirectPath: a.RedirectPath}
	var err error
	if t.Window, err = time.ParseDuration(a.Window); err != nil || t.Window <= 0 {
		return nil, fmt.Errorf("the attended tier of profile %s has an invalid window %q in the broker's discovery document", profile, a.Window)
	}
	if a.MaxAge != "" {
		if t.MaxAge, err = time.ParseDuration(a.MaxAge); err != nil || t.MaxAge < 0 {
			return nil, fmt.Errorf("the attended tier of profile %s has an invalid max_age %q in the broker's discovery document", profile, a.MaxAge)
		}
	}
	switch {
	case t.OIDCMount == "" || t.Role == "":
		return nil, fmt.Errorf("the attended tier of profile %s names no OIDC mount or role in the broker's discovery document", profile)
	case len(t.RedirectPath) < 2 || t.RedirectPath[0] != '/' || t.RedirectPath == "/start":
		return nil, fmt.Errorf("the attended tier of profile %s has an invalid redirect path %q in the broker's discovery document", profile, a.RedirectPath)
	case t.Uses < 0:
		return nil, fmt.Errorf("the attended tier of profile %s has a negative use budget in the broker's discovery document", profile)
	}
	return t, nil
}

// Ask is what the user asks for: --for and --uses (0: the tier's).
type Ask struct {
	For  time.Duration
	Uses int
}

// Bounds are the window and budget granted for ask: --for at most the
// tier's window (default: all of it); --uses at most the tier's budget
// when it has one (default: the tier's; 0: no budget).
func (t *Tier) Bounds(ask Ask) (time.Duration, int, error) {
	d := t.Window
	if ask.For < 0 {
		return 0, 0, fmt.Errorf("--for must be positive")
	}
	if ask.For > 0 {
		if ask.For > t.Window {
			return 0, 0, fmt.Errorf("--for %s is longer than the attended window of profile %s (%s)", ask.For, t.Profile, t.Window)
		}
		d = ask.For
	}
	uses := t.Uses
	if ask.Uses < 0 {
		return 0, 0, fmt.Errorf("--uses must not be negative")
	}
	if ask.Uses > 0 {
		if t.Uses > 0 && ask.Uses > t.Uses {
			return 0, 0, fmt.Errorf("--uses %d is more than the attended budget of profile %s (%d)", ask.Uses, t.Profile, t.Uses)
		}
		uses = ask.Uses
	}
	return d, uses, nil
}
