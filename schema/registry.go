package schema

import (
	"fmt"
	"slices"
	"sync"
)

// The stream registry: every stream the connector knows, one declaration
// each (a file per stream in this package). Its order is the run order:
// dimensions, analytics exports, then CRM data.
var (
	registryMu sync.RWMutex
	registry   = []*Stream{Contracts, Seat, Activity, ActivityOutcome, CRMValidation, ProfileAssociations}
)

// Streams lists the built-in analytics export streams in their run order.
var Streams = filter(func(s *Stream) bool { return s.Extract == AnalyticsExport })

// CRMStreams lists the built-in streams of CRM data: the validation
// exports, then the profile associations looked up for their records.
var CRMStreams = filter(func(s *Stream) bool { return s.Extract.AppToken() })

// Dimensions lists the built-in tables loaded whole each run.
var Dimensions = filter(func(s *Stream) bool { return s.Dimension() && s.Write == Replace })

func init() {
	for _, s := range registry {
		if err := s.Validate(); err != nil {
			panic(err)
		}
	}
}

func filter(keep func(*Stream) bool) []*Stream {
	var out []*Stream
	for _, s := range All() {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// All returns every registered stream, in run order.
func All() []*Stream {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return slices.Clone(registry)
}

// Defaults returns the streams a run takes when SALESNAV_STREAMS is not
// set (DefaultOn), in run order.
func Defaults() []*Stream {
	return filter(func(s *Stream) bool { return s.DefaultOn })
}

// Names returns the names of streams.
func Names(streams []*Stream) []string {
	out := make([]string, len(streams))
	for i, s := range streams {
		out[i] = s.Name
	}
	return out
}

// Register adds a stream to the registry, after the built-in ones, once
// its declaration is valid and its name new; unregister takes it out
// again. A test declares a stream this way; the built-in streams are in
// the registry from the start.
func Register(s *Stream) (unregister func(), err error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if slices.ContainsFunc(registry, func(r *Stream) bool { return r.Name == s.Name }) {
		return nil, fmt.Errorf("registering stream %q: %w", s.Name, ErrDuplicateStream)
	}
	registry = append(registry, s)
	return func() {
		registryMu.Lock()
		defer registryMu.Unlock()
		registry = slices.DeleteFunc(registry, func(r *Stream) bool { return r == s })
	}, nil
}

// Lookup returns the stream called name.
func Lookup(name string) (*Stream, error) {
	all := All()
	i := slices.IndexFunc(all, func(s *Stream) bool { return s.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("unknown stream %q (known: %v)", name, Names(all))
	}
	return all[i], nil
}
