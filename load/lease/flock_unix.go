//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package lease

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes fd's exclusive flock without blocking; held is true when
// another open file holds it.
func lockFile(fd *os.File) (held bool, err error) {
	for {
		err = syscall.Flock(int(fd.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EAGAIN) {
		return true, nil
	}
	return false, err
}

func unlockFile(fd *os.File) error { return syscall.Flock(int(fd.Fd()), syscall.LOCK_UN) }
