package tokenhelper

import "strings"

// maxAncestors bounds the walk up from the helper to the vault CLI: the
// CLI runs the helper through `$SHELL -c`, and the script execs alilogin.
const maxAncestors = 4

// AddressFlags are the server addresses a vault command line names with
// its -address and -agent-address flags (either with one or two dashes,
// the value after '=' or as the next argument; the last one counts, as
// for the vault CLI's flag parser); "" when a flag is absent.
func AddressFlags(args []string) (address, agent string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if name != "address" && name != "agent-address" {
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				break
			}
			i++
			val = args[i]
		}
		if name == "address" {
			address = val
		} else {
			agent = val
		}
	}
	return address, agent
}

// CallerArgs are the arguments of the vault CLI process that runs this
// helper: the first ancestor (at most maxAncestors up) whose program is
// named vault. ok is false when none is found, or where the system does
// not show other processes' command lines (only Linux's /proc is read).
func CallerArgs() (args []string, ok bool) {
	return callerArgs()
}
