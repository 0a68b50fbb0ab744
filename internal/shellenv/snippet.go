package shellenv

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/envcontract"
)

// HookShells are the shells a snippet exists for.
var HookShells = []string{"bash", "zsh", "fish"}

// HookRetryAfter is how long the hook waits before it asks again after a
// failure (a login needed, a server down).
const HookRetryAfter = time.Minute

// HookMinWait is the least time between two refreshes that succeeded: a
// token that cannot be made to last longer than the margin does not make
// the hook run at every prompt.
const HookMinWait = 30 * time.Second

// HookSnippet is the text for the shell's rc file; the refresh runs
// `alilogin hook SHELL --env --min-ttl MINTTL`, found through PATH.
func HookSnippet(shell string, minTTL time.Duration) (string, error) {
	return HookSnippetFollowing(shell, minTTL, "")
}

// HookSnippetFollowing is HookSnippet that also refreshes at the first prompt
// after currentFile (the current-profile file of `alilogin use`)
// changed: it reads the file with the shell's own read builtin (no
// process) and compares its line with the one it saw at the last
// refresh. An empty currentFile: no such check.
func HookSnippetFollowing(shell string, minTTL time.Duration, currentFile string) (string, error) {
	return HookSnippetWith(shell, minTTL, currentFile, "")
}

// HookSnippetWith is HookSnippetFollowing whose refresh also passes
// flags (e.g. "--agent": the agent's gates instead of the tokens); flags
// must be fixed words, never user text.
func HookSnippetWith(shell string, minTTL time.Duration, currentFile, flags string) (string, error) {
	refresh := "command alilogin hook " + shell + " --env --min-ttl " + minTTL.String()
	if flags != "" {
		refresh += " " + flags
	}
	// Only a regular file (a FIFO or /dev/zero there would hang every
	// prompt), and at most 129 bytes of it.
	readSh, readZsh := "", ""
	if currentFile != "" {
		q := QuoteSh(currentFile)
		readSh = "if [[ -f " + q + " && -r " + q + " ]]; then read -r -n 129 __alilogin_cur <" + q + " || :; fi"
		readZsh = "if [[ -f " + q + " && -r " + q + " ]]; then read -r -u 0 -k 129 __alilogin_cur <" + q + " || :; __alilogin_cur=${__alilogin_cur%%$'\\n'*}; fi"
	}
	switch shell {
	case "bash":
		return fmt.Sprintf(bashSnippet, refresh, readSh, rerouteCheck(shell, runtime.GOOS)), nil
	case "zsh":
		return fmt.Sprintf(zshSnippet, refresh, readZsh, rerouteCheck(shell, runtime.GOOS)), nil
	case "fish":
		readFish := ""
		if currentFile != "" {
			q := QuoteFish(currentFile)
			readFish = "if test -f " + q + "; and test -r " + q + "\n        read -n 129 cur <" + q + "\n    end"
		}
		return fmt.Sprintf(fishSnippet, refresh, readFish, rerouteCheck(shell, runtime.GOOS)), nil
	}
	return "", fmt.Errorf("unknown shell %q: want bash, zsh or fish", shell)
}

// The snippets. __alilogin_next is the Unix time (fish on Linux: the
// seconds of /proc/uptime, __alilogin_next_uptime) from which the tokens
// need renewing; __alilogin_profile the ALILOGIN_PROFILE they were chosen with (a changed
// ALILOGIN_PROFILE refreshes at once: the shell's own, which the hook
// never sets); __alilogin_current the line of the current-profile file
// at the last refresh (a changed one, `alilogin use` in any shell,
// refreshes at the next prompt); __alilogin_msg the failure the
// refresh reported, __alilogin_said the one last printed;
// __alilogin_vars the token variables the last refresh exported (the
// next one unsets those it does not set; exported itself, so that a
// shell started from this one unsets the tokens it inherited when its
// own refresh does not set them, as for another profile that is not
// logged in: only the fixed envcontract.TokenVars are ever unset, whatever its
// value), __alilogin_addrs the server
// addresses after it (a changed VAULT_ADDR, NOMAD_ADDR or
// CONSUL_HTTP_ADDR refreshes at once), __alilogin_genfile the profile's
// generation file (store.Watch) and __alilogin_gen its content at the
// last refresh: a login, a renewal or a logout by any alilogin of the
// user changes it, and the next prompt refreshes. Read with the shell's
// `read` builtin: no process while nothing changed.
const bashSnippet = `# alilogin hook for bash: keeps VAULT_TOKEN, NOMAD_TOKEN, CONSUL_HTTP_TOKEN and
# the addresses fresh before each prompt. In ~/.bashrc: eval "$(alilogin hook bash)"
# State comes from this shell's refreshes only, never from the environment
# (a launcher could set __alilogin_next far ahead): __alilogin_vars alone is
# inherited, by design.
unset __alilogin_next __alilogin_next_uptime __alilogin_profile __alilogin_addrs __alilogin_current __alilogin_msg __alilogin_said __alilogin_genfile __alilogin_gen
__alilogin_hook() {
  local __alilogin_rc=$? __alilogin_now __alilogin_msg= __alilogin_x= __alilogin_v= __alilogin_cur= __alilogin_g=
  if [[ -n ${EPOCHSECONDS-} ]]; then __alilogin_now=$EPOCHSECONDS
  else printf -v __alilogin_now '%%(%%s)T' -1 2>/dev/null || __alilogin_now=$(date +%%s); fi
  %[2]s
  # A login, renewal or logout anywhere writes the profile's generation
  # file: read (a builtin, no process) and compared with the last one.
  if [[ -n ${__alilogin_genfile-} ]]; then { read -r __alilogin_g <"$__alilogin_genfile"; } 2>/dev/null; fi
  # Arithmetic on a variable runs the code in its subscripts: both
  # numbers (__alilogin_next may come from the environment) must be
  # digits only before any (( )).
  if [[ "${ALILOGIN_PROFILE-}" == "${__alilogin_profile-}" && "$__alilogin_cur" == "${__alilogin_current-}" && "${VAULT_ADDR-}|${NOMAD_ADDR-}|${CONSUL_HTTP_ADDR-}" == "${__alilogin_addrs-}" && %[3]s &&
        "$__alilogin_g" == "${__alilogin_gen-}" && -n $__alilogin_now && $__alilogin_now != *[!0-9]* && -n ${__alilogin_next-} && $__alilogin_next != *[!0-9]* ]] && (( 10#$__alilogin_now < 10#$__alilogin_next )); then
    return $__alilogin_rc
  fi
  # set -x would trace the tokens, set -v print the eval'd exports: off
  # around the eval, then as they were.
  if [[ $- == *x* ]]; then __alilogin_x=1; set +x; fi
  if [[ $- == *v* ]]; then __alilogin_v=1; set +v; fi
  eval "$(%[1]s)"
  __alilogin_current=$__alilogin_cur
  if [[ -n $__alilogin_v ]]; then set -v; fi
  if [[ -n $__alilogin_x ]]; then set -x; fi
  if [[ -n $__alilogin_msg ]]; then
    [[ "$__alilogin_msg" != "${__alilogin_said-}" ]] && printf '%%s\n' "$__alilogin_msg" >&2
    __alilogin_said=$__alilogin_msg
  else
    __alilogin_said=
  fi
  return $__alilogin_rc
}
if [[ ";${PROMPT_COMMAND-};" != *";__alilogin_hook;"* ]]; then
  PROMPT_COMMAND="__alilogin_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
fi
`

const zshSnippet = `# alilogin hook for zsh: keeps VAULT_TOKEN, NOMAD_TOKEN, CONSUL_HTTP_TOKEN and
# the addresses fresh before each prompt. In ~/.zshrc: eval "$(alilogin hook zsh)"
zmodload zsh/datetime 2>/dev/null
# State comes from this shell's refreshes only, never from the environment
# (a launcher could set __alilogin_next far ahead): __alilogin_vars alone is
# inherited, by design.
unset __alilogin_next __alilogin_next_uptime __alilogin_profile __alilogin_addrs __alilogin_current __alilogin_msg __alilogin_said __alilogin_genfile __alilogin_gen
__alilogin_hook() {
  local __alilogin_rc=$? __alilogin_now __alilogin_msg= __alilogin_cur= __alilogin_g=
  # xtrace would trace the tokens, verbose print the eval'd exports:
  # off in this function only.
  setopt localoptions noxtrace noverbose
  if [[ -n ${EPOCHSECONDS-} ]]; then __alilogin_now=$EPOCHSECONDS; else __alilogin_now=$(date +%%s); fi
  %[2]s
  # A login, renewal or logout anywhere writes the profile's generation
  # file: read (a builtin, no process) and compared with the last one.
  if [[ -n ${__alilogin_genfile-} ]]; then { read -r __alilogin_g <"$__alilogin_genfile"; } 2>/dev/null; fi
  # Arithmetic on a variable runs the code in its subscripts: both
  # numbers (__alilogin_next may come from the environment) must be
  # digits only before any (( )).
  if [[ "${ALILOGIN_PROFILE-}" == "${__alilogin_profile-}" && "$__alilogin_cur" == "${__alilogin_current-}" && "${VAULT_ADDR-}|${NOMAD_ADDR-}|${CONSUL_HTTP_ADDR-}" == "${__alilogin_addrs-}" && %[3]s &&
        "$__alilogin_g" == "${__alilogin_gen-}" && $__alilogin_now == <-> && ${__alilogin_next-} == <-> ]] && (( 10#$__alilogin_now < 10#$__alilogin_next )); then
    return $__alilogin_rc
  fi
  eval "$(%[1]s)"
  __alilogin_current=$__alilogin_cur
  if [[ -n $__alilogin_msg ]]; then
    [[ "$__alilogin_msg" != "${__alilogin_said-}" ]] && print -r -- "$__alilogin_msg" >&2
    __alilogin_said=$__alilogin_msg
  else
    __alilogin_said=
  fi
  return $__alilogin_rc
}
(( ${precmd_functions[(Ie)__alilogin_hook]} )) || precmd_functions+=(__alilogin_hook)
`

const fishSnippet = `# alilogin hook for fish: keeps VAULT_TOKEN, NOMAD_TOKEN, CONSUL_HTTP_TOKEN and
# the addresses fresh before each prompt. In ~/.config/fish/config.fish:
#   alilogin hook fish | source
# State comes from this shell's refreshes only, never from the environment
# (a launcher could set __alilogin_next far ahead): __alilogin_vars alone is
# inherited, by design.
set -e __alilogin_next __alilogin_next_uptime __alilogin_profile __alilogin_addrs __alilogin_current __alilogin_msg __alilogin_said __alilogin_genfile __alilogin_gen
function __alilogin_hook --on-event fish_prompt
    # fish_trace would trace the tokens: empty (off) in this function.
    set -l fish_trace
    set -l now 0
    set -l next 0
    if test -r /proc/uptime
        read -l up </proc/uptime
        set now (string split -f1 . -- $up)
        set -q __alilogin_next_uptime; and set next $__alilogin_next_uptime
    else
        set now (date +%%s)
        set -q __alilogin_next; and set next $__alilogin_next
    end
    set -l cur
    %[2]s
    # A login, renewal or logout anywhere writes the profile's generation
    # file: read (a builtin, no process) and compared with the last one.
    set -l g
    if test -n "$__alilogin_genfile"; and test -f "$__alilogin_genfile"
        read g <$__alilogin_genfile 2>/dev/null
    end
    if test "$ALILOGIN_PROFILE" = "$__alilogin_profile"; and test "$cur" = "$__alilogin_current"; and test "$VAULT_ADDR|$NOMAD_ADDR|$CONSUL_HTTP_ADDR" = "$__alilogin_addrs"; and %[3]s; and test "$g" = "$__alilogin_gen"; and test "$now" -lt "$next"
        return
    end
    set -g __alilogin_msg
    %[1]s | source
    set -g __alilogin_current $cur
    if test -n "$__alilogin_msg"
        if test "$__alilogin_msg" != "$__alilogin_said"
            printf '%%s\n' $__alilogin_msg >&2
        end
        set -g __alilogin_said $__alilogin_msg
    else
        set -g __alilogin_said
    end
end
`

// rerouteCheck is the snippet's condition (bash and zsh: inside [[ ]];
// fish: a command list) that holds when no variable of the environment
// contract that a refresh would unset (envcontract.Reroute rules
// honoured on goos) is set, so that one set after the last refresh (a
// project's .envrc exporting VAULT_AGENT_ADDR) refreshes at the next
// prompt, which unsets it. Shell builtins and expansions only, no
// process: a fixed name set at all; a prefix rule (BAO_), any variable
// of that prefix (bash and zsh: exported or not; one the shell does not
// export is not unset by the refresh, which cannot see it, so the hook
// refreshes at each prompt while it stays); a rule that counts only
// without a CA file (SSL_CERT_FILE, VAULT_CAPATH...), when it is set and
// a server it concerns has its token variable set and its CA variable
// not, as the refresh decides (envcontract.Clear).
func rerouteCheck(shell, goos string) string {
	var conds []string
	for _, r := range envcontract.Rules {
		if r.Class != envcontract.Reroute || slices.Contains(r.NotOn, goos) {
			continue
		}
		var without []string // per server: token set, CA not
		if r.UnlessCA {
			for _, sv := range r.Servers {
				ex := envcontract.For(sv)
				switch shell {
				case "fish":
					without = append(without, "begin; set -q "+ex.Token+"; and not set -q "+ex.CACert+"; end")
				default:
					without = append(without, "( -n ${"+ex.Token+"+x} && -z ${"+ex.CACert+"+x} )")
				}
			}
		}
		switch {
		case r.Prefix && shell == "bash":
			conds = append(conds, "-z \"${!"+r.Name+"@}\"")
		case r.Prefix && shell == "zsh":
			conds = append(conds, "-z \"${(k)parameters[(I)"+r.Name+"*]}\"")
		case r.Prefix:
			conds = append(conds, "not set -n | string match -q -- '"+r.Name+"*'")
		case shell == "fish" && without != nil:
			conds = append(conds, "not begin; set -q "+r.Name+"; and begin; "+strings.Join(without, "; or ")+"; end; end")
		case shell == "fish":
			conds = append(conds, "not set -q "+r.Name)
		case without != nil:
			conds = append(conds, "! ( -n ${"+r.Name+"+x} && ( "+strings.Join(without, " || ")+" ) )")
		default:
			conds = append(conds, "-z ${"+r.Name+"+x}")
		}
	}
	if shell == "fish" {
		return strings.Join(conds, "; and ")
	}
	return strings.Join(conds, " && ")
}

// HookState is what a refresh tells the snippet besides the environment.
type HookState struct {
	Next       time.Time     // renew from then on
	NextUptime time.Duration // the same on the /proc/uptime clock; 0: unknown
	Profile    string        // the shell's ALILOGIN_PROFILE the tokens were chosen with ("" for none)
	Msg        string        // the failure to say, once; "" on success
	// Exported are the envcontract.TokenVars the refresh sets; the others that the
	// previous refresh exported (__alilogin_vars) are unset, so that no
	// token of another profile, or of a Vault VAULT_ADDR no longer
	// names, stays in the shell. Empty on a failure: all are unset.
	Exported []string
	// Addrs is VAULT_ADDR|NOMAD_ADDR|CONSUL_HTTP_ADDR as the shell has
	// them after the refresh; the snippet refreshes when they change.
	Addrs string
	// GenFile is the profile's generation file (store.Watch), Gen its
	// content read before the refresh: the snippet refreshes when the
	// file says otherwise. GenFile "": nothing to watch (off Linux, no
	// profile known).
	GenFile, Gen string
}

// HookExported are the token variables (envcontract.TokenVars) that vars,
// a refresh's environment, sets: HookState.Exported.
func HookExported(vars []Var) []string {
	var out []string
	for _, v := range vars {
		if !v.Unset && slices.Contains(envcontract.TokenVars(), v.Name) {
			out = append(out, v.Name)
		}
	}
	return out
}

// HookAddrs is the servers' address variables (VAULT_ADDR|NOMAD_ADDR|
// CONSUL_HTTP_ADDR) as a shell whose variables getenv reads has them
// once it applied vars: HookState.Addrs.
func HookAddrs(getenv func(string) string, vars []Var) string {
	names := envcontract.AddrVars()
	vals := make([]string, len(names))
	for i, n := range names {
		vals[i] = getenv(n)
		for _, v := range vars {
			if v.Name == n {
				vals[i] = v.Value
				if v.Unset {
					vals[i] = ""
				}
			}
		}
	}
	return strings.Join(vals, "|")
}

// Write prints the state as shell code for shell (bash, zsh, fish).
func (s HookState) Write(b *strings.Builder, shell string) {
	next := strconv.FormatInt(s.Next.Unix(), 10)
	for _, n := range envcontract.TokenVars() {
		if slices.Contains(s.Exported, n) {
			continue
		}
		if shell == "fish" {
			fmt.Fprintf(b, "if string match -q -- '* %s *' \" $__alilogin_vars \"; set -e %s; end\n", n, n)
		} else {
			fmt.Fprintf(b, "if [[ \" ${__alilogin_vars-} \" == *' %s '* ]]; then unset %s; fi\n", n, n)
		}
	}
	vars := strings.Join(s.Exported, " ")
	if shell == "fish" {
		fmt.Fprintf(b, "set -gx __alilogin_vars %s\n", QuoteFish(vars))
		fmt.Fprintf(b, "set -g __alilogin_addrs %s\n", QuoteFish(s.Addrs))
		fmt.Fprintf(b, "set -g __alilogin_genfile %s\n", QuoteFish(s.GenFile))
		fmt.Fprintf(b, "set -g __alilogin_gen %s\n", QuoteFish(s.Gen))
	} else {
		fmt.Fprintf(b, "export __alilogin_vars=%s\n", QuoteSh(vars))
		fmt.Fprintf(b, "__alilogin_addrs=%s\n", QuoteSh(s.Addrs))
		fmt.Fprintf(b, "__alilogin_genfile=%s\n", QuoteSh(s.GenFile))
		fmt.Fprintf(b, "__alilogin_gen=%s\n", QuoteSh(s.Gen))
	}
	if shell == "fish" {
		fmt.Fprintf(b, "set -g __alilogin_next %s\n", next)
		if s.NextUptime > 0 {
			fmt.Fprintf(b, "set -g __alilogin_next_uptime %d\n", int64(s.NextUptime/time.Second))
		}
		fmt.Fprintf(b, "set -g __alilogin_profile %s\n", QuoteFish(s.Profile))
		fmt.Fprintf(b, "set -g __alilogin_msg %s\n", QuoteFish(s.Msg))
		return
	}
	fmt.Fprintf(b, "__alilogin_next=%s\n", next)
	fmt.Fprintf(b, "__alilogin_profile=%s\n", QuoteSh(s.Profile))
	fmt.Fprintf(b, "__alilogin_msg=%s\n", QuoteSh(s.Msg))
}
