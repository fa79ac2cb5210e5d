//go:build !unix

package moto

import (
	"errors"
	"os/exec"
)

// ownProcessGroup does nothing where process groups are not available.
func ownProcessGroup(*exec.Cmd) {}

// killProcessGroup kills the command's process.
func killProcessGroup(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
}

// mkfifo fails: there are no named pipes.
func mkfifo(string) error {
	return errors.New("named pipes are not available on this system")
}
