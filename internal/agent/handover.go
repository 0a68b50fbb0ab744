package agent

import (
	"errors"
	"fmt"
	"net"
	"os"
)

// The privileged tokens of an attended window travel in clear on the
// control socket (an "elevate" request). The socket's directory is the
// user's, so any program of the user may stop the agent and listen in
// its place: before it sends them, the client checks that the listener
// is the alilogin agent, as far as the system lets it (checkAgentPeer).

// errNotAgent: the listener on the control socket is not the agent.
var errNotAgent = errors.New("the program listening on the agent's socket is not the alilogin agent")

// checkAgentPeer checks the listener at the other end of c: its uid (from
// the kernel, SO_PEERCRED) is ours and, on Linux, its executable is the
// same file as ours (/proc/<pid>/exe and /proc/self/exe: the agent is
// started from alilogin's own executable). An agent started from an
// alilogin that was replaced since (an upgrade) fails the check too: it
// must be restarted (alilogin agent stop).
func checkAgentPeer(c net.Conn) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return errors.New("the agent's socket is not a UNIX socket")
	}
	uid, pid, err := unixPeer(uc)
	if errors.Is(err, ErrUnsupported) {
		return nil // no peer credentials here: docs/security.md says so
	}
	if err != nil {
		return err
	}
	if uid != os.Getuid() {
		return fmt.Errorf("%w (it runs as uid %d)", errNotAgent, uid)
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
