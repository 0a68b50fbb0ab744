package x

import "github.com/alisw/alilogin/internal/y"

func Direct() { y.Read() }

func Long() { other() }

type Sinker interface{ Sink() }

type Port struct{}
