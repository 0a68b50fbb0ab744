package agent

import (
	"errors"
	"fmt"
	"net"
	"os"
)

// Every request on the control socket goes to a listener of the user's
// own uid only: the directory is checked by its path and then dialled by
// its path, so a parent another user could write (an ALILOGIN_AGENT_DIR
// or TMPDIR of the user's choosing) must not let that user answer in
// the agent's place (fake an attended window's end, hand out gates of
// their own, swallow a logout's sync). The privileged tokens of an
// attended window travel in clear on it (an "elevate" request), and any
// program of the user may stop the agent and listen in its place: for
// those, the client also checks that the listener runs the alilogin
// executable, as far as the system lets it (checkAgentPeer).

// errNotAgent: the listener on the control socket is not the agent.
var errNotAgent = errors.New("the program listening on the agent's socket is not the alilogin agent")

// ownUID is the uid a listener must have (a variable for the tests).
var ownUID = os.Getuid

// checkAgentPeer checks the listener at the other end of c: its uid (from
// the kernel, SO_PEERCRED) is ours and, with exe on Linux, its
// executable is the same file as ours (/proc/<pid>/exe and
// /proc/self/exe: the agent is started from alilogin's own executable).
// An agent started from an alilogin that was replaced since (an upgrade)
// fails the executable check: it must be restarted (alilogin agent
// stop).
func checkAgentPeer(c net.Conn, exe bool) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return errors.New("the agent's socket is not a UNIX socket")
	}
	// Where the system gives no peer credentials (ErrUnsupported) the
	// agent refuses every connection too (controlserver.go): no call.
	uid, pid, err := unixPeer(uc)
	if err != nil {
		return err
	}
	if uid != ownUID() {
		return fmt.Errorf("%w (it runs as uid %d)", errNotAgent, uid)
	}
	if !exe {
		return nil
	}
	same, err := sameExecutable(pid)
	if err != nil {
		return fmt.Errorf("could not check the program listening on the agent's socket: %w", err)
	}
	if !same {
		return fmt.Errorf("%w (its executable is not this alilogin's; if alilogin was upgraded, run: alilogin agent stop)", errNotAgent)
	}
	return nil
}
