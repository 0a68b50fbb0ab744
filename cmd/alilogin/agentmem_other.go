//go:build !linux

package main

// lockMemory: only Linux locks the agent's memory (agentmem_linux.go).
func lockMemory() string { return "may be swapped (not locked on this system)" }
