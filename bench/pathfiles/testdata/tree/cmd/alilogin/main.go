package main

import "github.com/alisw/alilogin/internal/x"

func main() { runToken() }

func runToken() {
	x.Direct()
	x.Long()
	var s x.Sinker = x.Port{}
	s.Sink()
}
