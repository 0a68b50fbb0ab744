package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
)

type entry struct {
	PID  int    `json:"pid"`
	File string `json:"file"`
	Text string `json:"text"`
}

func main() {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		fmt.Fprintf(os.Stderr, "snoop: %v\n", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	read := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		for _, f := range []string{"cmdline", "environ"} {
			b, err := os.ReadFile("/proc/" + e.Name() + "/" + f)
			if err != nil {
				continue // not ours to read, or the process ended
			}
			read++
			_ = enc.Encode(entry{PID: pid, File: f, Text: string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))})
		}
	}
	_ = enc.Encode(map[string]int{"uid": os.Getuid(), "read": read})
}
