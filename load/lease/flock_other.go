//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package lease

import "os"

func lockFile(*os.File) (bool, error) { return false, ErrUnsupported }
func unlockFile(*os.File) error       { return nil }
