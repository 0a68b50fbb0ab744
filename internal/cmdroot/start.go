package cmdroot

import (
	"fmt"
	"io"

	"github.com/alisw/alilogin/internal/nodump"
)

// Start is what both tools do first, before any secret is read: no core
// dump, no ptrace, no /proc/<pid>/environ or mem for the user's other
// processes (nodump.Set: Linux; exec'd programs get it back). A failure
// is a warning on errw, "<name>: warning: ...".
func Start(name string, errw io.Writer) {
	if err := nodump.Set(); err != nil {
		fmt.Fprintf(errw, "%s: warning: %v\n", name, err)
	}
}
