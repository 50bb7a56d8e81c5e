//go:build !linux

package testenv

import "syscall"

// s3DieWithParent has no portable equivalent of Linux's Pdeathsig; StopS3
// cleans up instead.
func s3DieWithParent() *syscall.SysProcAttr { return nil }
