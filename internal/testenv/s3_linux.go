package testenv

import "syscall"

// s3DieWithParent makes a started server get SIGKILL when the test binary
// exits, even if StopS3 never runs. Linux delivers it when the thread that
// started the process exits; Go keeps its threads alive unless a goroutine
// exits while locked to one, which tests do not do.
func s3DieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
