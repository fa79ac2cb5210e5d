//go:build unix

package moto

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts the command in a process group of its own, so that
// killProcessGroup also reaches the processes that a wrapper (such as a pyenv
// shim) starts.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcessGroup kills the command's process group.
func killProcessGroup(cmd *exec.Cmd) {
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		_ = cmd.Process.Kill()
	}
}

// mkfifo creates a named pipe.
func mkfifo(path string) error {
	return syscall.Mkfifo(path, 0o600)
}
