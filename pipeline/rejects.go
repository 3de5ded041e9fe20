package pipeline

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/salesnav-etl/salesnav-etl/transform"
)

// rejectsFile collects a window's rejected rows as JSON Lines at
// <dir>/<stream>/contract=<id>/<start>_<end>.jsonl. A re-run of the window
// replaces the file; a clean re-run removes it.
type rejectsFile struct {
	path  string
	tmp   *os.File
	bw    *bufio.Writer
	enc   *json.Encoder
	count int64
}

func rejectsPath(dir, stream, partitionID string, span Span) string {
	return filepath.Join(dir, stream, "contract="+partitionID,
		span.Start.Format(time.DateOnly)+"_"+span.End.Format(time.DateOnly)+".jsonl")
}

func newRejectsFile(path string) *rejectsFile { return &rejectsFile{path: path} }

// Reject implements transform.RejectSink; the file is created on the first
// reject.
func (r *rejectsFile) Reject(rej transform.Reject) error {
	if r.tmp == nil {
		if err := os.MkdirAll(filepath.Dir(r.path), 0o750); err != nil {
			return fmt.Errorf("creating rejects directory: %w", err)
		}
		f, err := os.CreateTemp(filepath.Dir(r.path), ".staging-"+filepath.Base(r.path)+"-*.tmp")
		if err != nil {
			return fmt.Errorf("creating rejects file: %w", err)
		}
		r.tmp = f
		r.bw = bufio.NewWriter(f)
		r.enc = json.NewEncoder(r.bw)
	}
	r.count++
	return r.enc.Encode(rej)
}

var _ transform.RejectSink = (*rejectsFile)(nil)

// commit publishes the rejects (or removes an older file when there are
// none) and returns the file's path, "" when there is none.
func (r *rejectsFile) commit() (string, error) {
	if r.tmp == nil {
		if err := os.Remove(r.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("removing old rejects %s: %w", r.path, err)
		}
		return "", nil
	}
	name := r.tmp.Name()
	err := r.bw.Flush()
	if err == nil {
		err = r.tmp.Sync()
	}
	if cerr := r.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, r.path)
	}
	r.tmp = nil
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("writing rejects %s: %w", r.path, err)
	}
	return r.path, nil
}

// abort drops the staged rejects.
func (r *rejectsFile) abort() {
	if r.tmp != nil {
		r.tmp.Close()
		os.Remove(r.tmp.Name())
		r.tmp = nil
	}
}
