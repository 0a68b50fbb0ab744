// Package benchstack is the set-up the bench commands share: it builds the
// alilogin binary, starts the real test stack, gives the environment of a
// user of that stack and seeds a login (a record holding only a refresh
// token, bound to the servers as `alilogin login` binds it), so that each
// bench measures alilogin from the same starting point. It also holds the
// statistics the benches print.
package benchstack
