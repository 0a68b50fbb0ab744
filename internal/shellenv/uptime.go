package shellenv

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// Uptime is the integer part of /proc/uptime, the clock the fish snippet
// reads with builtins only; ok is false where there is none.
func Uptime() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, false
	}
	f, _, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	i, _, _ := strings.Cut(f, ".")
	n, err := strconv.ParseInt(i, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}
