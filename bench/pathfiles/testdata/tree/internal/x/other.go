package x

import "github.com/alisw/alilogin/internal/y"

func other() { y.Read() }

func (Port) Sink() { y.Write() }
