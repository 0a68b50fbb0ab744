//go:build !linux

package kvsecret

import (
	"os"
	"testing"
)

func fallbackDir(*testing.T) string { return os.TempDir() }
