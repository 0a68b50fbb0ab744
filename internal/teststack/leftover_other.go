//go:build !linux

package teststack

import (
	"io"
	"time"
)

// becomeSubreaper: only Linux has child subreapers.
func becomeSubreaper() error { return nil }

func children() map[int]string { return nil }

func endLeftovers(io.Writer, time.Duration) int { return 0 }
