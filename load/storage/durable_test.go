package storage

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// Issue 17: directories created or emptied are synced in their parent.
// Publishing a file into partition directories that do not exist yet
// syncs the parent of each directory made, and the file's own directory;
// removing a file syncs its directory. The calls are watched through
// syncDir.
func TestDirectoriesSyncedInTheirParent(t *testing.T) {
	var mu sync.Mutex
	var synced []string
	syncDir = func(dir string) error {
		mu.Lock()
		synced = append(synced, dir)
		mu.Unlock()
		return syncDirOS(dir)
	}
	t.Cleanup(func() { syncDir = syncDirOS })
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := synced
		synced = nil
		return out
	}

	base := t.TempDir()
	root := filepath.Join(base, "out")
	d, err := NewDirStorage(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := take(); !slices.Equal(got, []string{base}) {
		t.Errorf("making the root synced %v, want its parent %s", got, base)
	}
	ctx := context.Background()
	name := "activity/date=2026-03-01/contract=c1/part-0.parquet"
	f, err := d.Create(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	if err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(root, "activity", "date=2026-03-01", "contract=c1")
	want := []string{root, filepath.Join(root, "activity"), filepath.Join(root, "activity", "date=2026-03-01"), part}
	if got := take(); !slices.Equal(got, want) {
		t.Errorf("publishing into new directories synced %v, want %v", got, want)
	}
	if err := d.Remove(ctx, name); err != nil {
		t.Fatal(err)
	}
	if got := take(); !slices.Equal(got, []string{part}) {
		t.Errorf("removing a file synced %v, want its directory %s", got, part)
	}
	if err := d.Remove(ctx, name); err != nil {
		t.Errorf("removing a file already gone: %v", err)
	}
	if err := WriteFileAtomic(filepath.Join(base, "state", "s.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := take(); !slices.Equal(got, []string{base, filepath.Join(base, "state")}) {
		t.Errorf("a state file in a new directory synced %v", got)
	}
	if _, err := os.Stat(filepath.Join(base, "state", "s.json")); err != nil {
		t.Error(err)
	}
}
