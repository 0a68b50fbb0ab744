//go:build !linux

package kvsecret

// isTmpfs: /dev/shm as a tmpfs directory is a Linux notion.
func isTmpfs(string) bool { return false }
