// Command pathfiles measures how many files a reader opens to follow a
// behaviour of alilogin: it runs the behaviour once on the real stack
// with a coverage-instrumented alilogin and gives three figures:
//
//   - the non-test files of the module that ran at least one statement,
//     after what runs before the command's run function (main.go,
//     root.go, the command's flags: what `alilogin CMD --help` runs
//     too). exec's child is a file the kernel refuses to run, so that
//     alilogin returns (and writes its coverage) after it has read the
//     secret; what that failure's end runs (the error printed, its hint,
//     the exit code) is what an exec of a missing command runs too, and
//     not counted;
//   - the files on the call path from the command's run function to its
//     first I/O (the record's read, the behaviour's first own I/O), and
//     to all its I/O (callpath.go): the static call graph, through what
//     ran.
//
// All three group as issue 20 counts (internal/store, internal/oidc and
// internal/clientcert as one each; the generic leaves config,
// apiclient, safehttp, secret, termtext, filelock, atomicfile, userdir,
// config/check not counted).
//
//	go run ./bench/pathfiles [-v] [-funcs] [-chains] [-src OTHER-TREE]
package main
