package errprefix

import (
	"regexp"
	"strings"
)

// Repeated returns the first repetition in text, line by line: a "could
// not <verb> ..." clause (clauses are separated by ": ") followed, on the
// same line, by another with the same verb whose object says no more or
// no less than the first one's (the words of one contain the other's,
// articles and parenthesised remarks left out), e.g. "could not renew the
// nomad lease: could not renew the lease". ok is false when there is none.
func Repeated(text string) (repeat string, ok bool) {
	for _, line := range strings.Split(text, "\n") {
		var seen []clause
		for _, part := range strings.Split(line, ": ") {
			c, isClause := parse(part)
			if !isClause {
				continue
			}
			for _, s := range seen {
				if s.verb == c.verb && (subset(s.object, c.object) || subset(c.object, s.object)) {
					return s.text + ": ... " + c.text, true
				}
			}
			seen = append(seen, c)
		}
	}
	return "", false
}

type clause struct {
	text, verb string
	object     []string
}

var (
	couldNot = regexp.MustCompile(`(?i)\bcould not ([a-z]+)\b(.*)$`)
	remark   = regexp.MustCompile(`\([^()]*\)`)
	articles = map[string]bool{"the": true, "a": true, "an": true}
)

// parse reads a "could not <verb> <object>" clause.
func parse(part string) (clause, bool) {
	m := couldNot.FindStringSubmatch(part)
	if m == nil {
		return clause{}, false
	}
	c := clause{text: strings.TrimSpace(m[0]), verb: strings.ToLower(m[1])}
	for _, w := range strings.Fields(strings.ToLower(remark.ReplaceAllString(m[2], " "))) {
		if !articles[w] {
			c.object = append(c.object, w)
		}
	}
	return c, true
}

// subset reports whether every word of a is in b.
func subset(a, b []string) bool {
	for _, w := range a {
		found := false
		for _, x := range b {
			if x == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
