package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/salesnav-etl/salesnav-etl/load/storage"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// rejectsFile collects a window's rejected rows as JSON Lines at
// <dir>/<stream>/contract=<id>/<start>_<end>.jsonl. A re-run of the window
// replaces the file; a clean re-run removes it. With a store (a bucket),
// the rows wait in a local temporary file and the file is uploaded whole
// on commit.
type rejectsFile struct {
	path  string // for people: a path or a URL
	store storage.Storage
	name  string // in store
	tmp   *os.File
	bw    *bufio.Writer
	enc   *json.Encoder
	count int64
}

// newRejects is the rejects file rel (slash-separated, below the rejects
// root) of the run's configuration.
func (r *Runner) newRejects(rel string) *rejectsFile {
	if st := r.cfg.RejectsStorage; st != nil {
		return &rejectsFile{store: st, name: rel, path: st.Location(rel)}
	}
	return &rejectsFile{path: filepath.Join(r.cfg.RejectsDir, filepath.FromSlash(rel))}
}

func rejectsName(stream, partitionID string, span Span) string {
	return path.Join(stream, "contract="+partitionID,
		span.Start.Format(time.DateOnly)+"_"+span.End.Format(time.DateOnly)+".jsonl")
}

// Reject implements transform.RejectSink; the file is created on the first
// reject.
func (r *rejectsFile) Reject(rej transform.Reject) error {
	if r.tmp == nil {
		dir := filepath.Dir(r.path)
		if r.store != nil {
			dir = "" // the system's temporary directory
		} else if err := storage.MkdirAll(dir); err != nil {
			return fmt.Errorf("creating rejects directory: %w", err)
		}
		f, err := os.CreateTemp(dir, ".staging-"+filepath.Base(r.path)+"-*.tmp")
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
	if r.store != nil {
		return r.upload()
	}
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

// upload publishes the rejects in the store (or removes an older object
// when there are none).
func (r *rejectsFile) upload() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if r.tmp == nil {
		if err := r.store.Remove(ctx, r.name); err != nil {
			return "", fmt.Errorf("removing old rejects %s: %w", r.path, err)
		}
		return "", nil
	}
	defer r.abort()
	err := r.bw.Flush()
	if err == nil {
		_, err = r.tmp.Seek(0, io.SeekStart)
	}
	var staged storage.Staged
	if err == nil {
		staged, err = r.store.Create(ctx, r.name)
	}
	if err == nil {
		if _, err = io.Copy(staged, r.tmp); err != nil {
			staged.Abort()
		} else {
			err = staged.Commit(ctx)
		}
	}
	if err != nil {
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
