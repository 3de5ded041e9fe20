package lease

import (
	"errors"
	"fmt"
)

// Sentinel errors of the lease package.
var (
	// ErrHeld: another run holds the lease (a *HeldError says who).
	ErrHeld = errors.New("output is in use by another run")
	// ErrNoConditionalWrite: the object store ignored a create-only-if-absent
	// write (If-None-Match: *), so it cannot keep one run at a time.
	ErrNoConditionalWrite = errors.New("object store does not honour conditional writes (If-None-Match)")
	// ErrLost: the lease object no longer carries this run's token: it
	// expired and another run took it over, or it was removed by hand.
	ErrLost = errors.New("lease lost to another run")
	// ErrUnsupported: no local locking on this operating system.
	ErrUnsupported = errors.New("local lock files are not supported on this system")
)

// HeldError is ErrHeld with the lease and its holder.
type HeldError struct {
	// Name is the lock file or lease object, for people.
	Name   string
	Holder Holder
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%v: %s is held by %s", ErrHeld, e.Name, e.Holder)
}

// Is makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }
