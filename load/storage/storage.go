package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Storage is where the Parquet sink keeps files, addressed by slash-separated
// names relative to its root: a local directory (DirStorage) or a bucket
// of object storage (OpenBlobStorage), each writing a file whole before
// publishing it.
type Storage interface {
	// Create stages a new file that will appear at name on Commit. Until
	// then it is invisible to readers globbing *.parquet.
	Create(ctx context.Context, name string) (Staged, error)
	// Remove deletes name; a missing name is not an error.
	Remove(ctx context.Context, name string) error
	// Exists reports whether name exists.
	Exists(ctx context.Context, name string) (bool, error)
	// Location renders name for people (a path or URL).
	Location(name string) string
	// List returns the names of the published files under the directory
	// prefix whose names end in suffix, sorted; staged files never show.
	// A missing prefix lists nothing.
	List(ctx context.Context, prefix, suffix string) ([]string, error)
	// Open opens a published file for reading. The caller closes it.
	Open(ctx context.Context, name string) (File, error)
}

// File is a published file opened for reading.
type File interface {
	io.ReaderAt
	io.Seeker
	io.Closer
}

// Staged is a file being written.
type Staged interface {
	io.Writer
	// Commit publishes the file atomically at its name, replacing any file
	// there, and makes it durable. Cancelling ctx abandons an upload (the
	// object is then left as it was).
	Commit(ctx context.Context) error
	// Abort discards the staged file. Safe after Commit.
	Abort() error
}

// DirStorage is Storage on a local directory.
type DirStorage struct{ root string }

var _ Storage = (*DirStorage)(nil)

// NewDirStorage returns storage rooted at dir, created when missing.
func NewDirStorage(dir string) (*DirStorage, error) {
	if err := MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("creating output directory: %w", err)
	}
	return &DirStorage{root: dir}, nil
}

// path maps a slash name to a path below the root, refusing any escape.
func (d *DirStorage) path(name string) (string, error) {
	clean := path.Clean("/" + name)
	if clean == "/" || strings.Contains(name, "\x00") || clean != "/"+name {
		return "", fmt.Errorf("storage name %q is not a clean relative path", name)
	}
	return filepath.Join(d.root, filepath.FromSlash(clean[1:])), nil
}

// Location returns the file's path.
func (d *DirStorage) Location(name string) string {
	p, err := d.path(name)
	if err != nil {
		return name
	}
	return p
}

// tempPrefix marks staged files: hidden, and ending in neither .parquet
// nor .json, so readers' globs never match them.
const tempPrefix = ".staging-"

// Create stages name in its own directory as .staging-<base>-<random>.tmp.
func (d *DirStorage) Create(_ context.Context, name string) (Staged, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(p)
	if err := MkdirAll(dir); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, tempPrefix+filepath.Base(p)+"-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("staging %s: %w", p, err)
	}
	return &stagedFile{f: f, final: p}, nil
}

// Remove deletes name.
func (d *DirStorage) Remove(_ context.Context, name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("removing %s: %w", p, err)
	}
	// The removal is durable once its directory is.
	return syncDir(filepath.Dir(p))
}

// Exists reports whether name exists.
func (d *DirStorage) Exists(_ context.Context, name string) (bool, error) {
	p, err := d.path(name)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// List walks the directory prefix for files ending in suffix.
func (d *DirStorage) List(_ context.Context, prefix, suffix string) ([]string, error) {
	p, err := d.path(strings.TrimSuffix(prefix, "/"))
	if err != nil {
		return nil, err
	}
	var out []string
	err = filepath.WalkDir(p, func(fp string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && fp == p {
				return filepath.SkipDir
			}
			return err
		}
		if e.IsDir() || strings.HasPrefix(e.Name(), tempPrefix) || !strings.HasSuffix(e.Name(), suffix) {
			return nil
		}
		rel, err := filepath.Rel(d.root, fp)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", p, err)
	}
	sort.Strings(out)
	return out, nil
}

// Open opens name for reading.
func (d *DirStorage) Open(_ context.Context, name string) (File, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", p, err)
	}
	return f, nil
}

// CleanStaging removes staged files left in dir (a slash name) by a process
// that died before committing them.
func (d *DirStorage) CleanStaging(name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	matches, err := filepath.Glob(filepath.Join(p, tempPrefix+"*.tmp"))
	if err != nil {
		return err
	}
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing stale %s: %w", m, err)
		}
	}
	return nil
}

type stagedFile struct {
	f     *os.File
	final string
	done  bool
}

func (s *stagedFile) Write(p []byte) (int, error) { return s.f.Write(p) }

func (s *stagedFile) Commit(context.Context) error {
	if s.done {
		return ErrStagedDone
	}
	s.done = true
	if err := s.f.Sync(); err != nil {
		s.f.Close()
		os.Remove(s.f.Name())
		return fmt.Errorf("syncing %s: %w", s.final, err)
	}
	if err := s.f.Close(); err != nil {
		os.Remove(s.f.Name())
		return fmt.Errorf("closing %s: %w", s.final, err)
	}
	if err := os.Rename(s.f.Name(), s.final); err != nil {
		os.Remove(s.f.Name())
		return fmt.Errorf("publishing %s: %w", s.final, err)
	}
	return syncDir(filepath.Dir(s.final))
}

func (s *stagedFile) Abort() error {
	if s.done {
		return nil
	}
	s.done = true
	s.f.Close()
	if err := os.Remove(s.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// syncDir makes a change of dir's entries (a rename, a removal, a new
// directory) durable. A variable so that a test can see the calls.
var syncDir = syncDirOS

// MkdirAll creates dir and any missing parents (mode 0750), durably: each
// directory it creates is synced in its parent, so that a file renamed
// into it later does not vanish with it on power loss.
func MkdirAll(dir string) error {
	dir = filepath.Clean(dir)
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := syncDir(filepath.Dir(missing[i])); err != nil {
			return err
		}
	}
	return nil
}

func syncDirOS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening %s to sync: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// WriteFileAtomic writes data to path through a temporary file and a
// rename, so readers see the old content or the new, never a mix.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := MkdirAll(dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, tempPrefix+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	s := &stagedFile{f: f, final: path}
	if err := f.Chmod(perm); err != nil {
		s.Abort()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		s.Abort()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return s.Commit(context.Background())
}
