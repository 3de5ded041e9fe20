package load_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load"
)

func TestFileStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "state.json")
	s, err := load.OpenFileState(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, ok, _ := s.Cursor(ctx, "activity", "c1"); ok {
		t.Fatal("new state has a cursor")
	}
	d := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	if err := s.SetCursor(ctx, "activity", "c1", d); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCursor(ctx, "seat", "c2", d.AddDate(0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	s2, err := load.OpenFileState(path)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := s2.Cursor(ctx, "activity", "c1")
	if err != nil || !ok || !got.Equal(d) {
		t.Errorf("reopened cursor = %v %v %v", got, ok, err)
	}
	got, ok, _ = s2.Cursor(ctx, "seat", "c2")
	if !ok || !got.Equal(d.AddDate(0, 0, 1)) {
		t.Errorf("seat cursor = %v", got)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("state directory holds %d entries, want just the state file", len(entries))
	}
}

func TestFileStateCorrupt(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage.json": "{not json",
		"version.json": `{"version": 99, "streams": {}}`,
		"streams.json": `{"version": 1, "streams": []}`,
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(content), 0o600)
		_, err := load.OpenFileState(path)
		if !errors.Is(err, load.ErrStateCorrupt) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want ErrStateCorrupt naming the file", name, err)
		}
	}
}

func TestFileStateContract(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	open := func() load.StateStore {
		s, err := load.OpenFileState(path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	testkit.StateStoreContract(t, open, open)
}

// A shard's state file is its own; cursors of contracts it never held
// come from its peers (other shards, or the unsharded file), the furthest
// one winning, and are written to its own file only when it moves them.
func TestShardFileStatePeers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	unsharded, _ := load.OpenFileState(filepath.Join(dir, "_state.json"))
	unsharded.SetCursor(ctx, "activity", "urn:a", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	unsharded.SetCursor(ctx, "activity", "urn:b", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	s1, _ := load.OpenFileState(filepath.Join(dir, "_state.shard-1.json"))
	s1.SetCursor(ctx, "activity", "urn:a", time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC))
	// Not of the family: an operator's copy, a file of another name.
	os.WriteFile(filepath.Join(dir, "_state.bak.json"), []byte("not state"), 0o600)
	os.WriteFile(filepath.Join(dir, "_statement.json"), []byte("not state"), 0o600)
	peers, err := load.StateFamily(filepath.Join(dir, "_state.json"))
	if err != nil || len(peers) != 2 {
		t.Fatalf("family %v, %v; want _state.json and _state.shard-1.json", peers, err)
	}
	s0, err := load.OpenShardFileState(load.ShardStatePath(filepath.Join(dir, "_state.json"), 0), peers)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		contract string
		want     string
		ok       bool
	}{{"urn:a", "2026-03-05", true}, {"urn:b", "2026-03-01", true}, {"urn:c", "0001-01-01", false}} {
		c, ok, err := s0.Cursor(ctx, "activity", tc.contract)
		if err != nil || ok != tc.ok || c.Format(time.DateOnly) != tc.want {
			t.Errorf("%s: %v %v %v, want %s", tc.contract, c, ok, err, tc.want)
		}
	}
	if err := s0.SetCursor(ctx, "activity", "urn:b", time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "_state.shard-0.json"))
	if !strings.Contains(string(raw), `"urn:b"`) || strings.Contains(string(raw), `"urn:a"`) {
		t.Errorf("shard 0's file holds what it did not move:\n%s", raw)
	}
	if c, _, _ := s0.Cursor(ctx, "activity", "urn:b"); c.Format(time.DateOnly) != "2026-03-08" {
		t.Errorf("own cursor %v", c)
	}
	// Back to one unsharded run: it reads the shards' cursors too (and a
	// CRM cursor keeps its milliseconds).
	ms := time.Date(2026, 3, 8, 10, 30, 15, 123e6, time.UTC)
	s0.SetCursor(ctx, "crm_validation", "urn:li:crmInstance:(A,B)", ms)
	family, _ := load.StateFamily(filepath.Join(dir, "_state.json"))
	one, err := load.OpenShardFileState(filepath.Join(dir, "_state.json"), family)
	if err != nil {
		t.Fatal(err)
	}
	if c, _, _ := one.Cursor(ctx, "activity", "urn:a"); c.Format(time.DateOnly) != "2026-03-05" {
		t.Errorf("unsharded after shards: urn:a at %v, want the shard's 2026-03-05", c)
	}
	if c, _, _ := one.Cursor(ctx, "crm_validation", "urn:li:crmInstance:(A,B)"); !c.Equal(ms) {
		t.Errorf("CRM cursor %v, want %v", c, ms)
	}
	// A reset clears every file of the family, or a peer would bring the
	// cursor back.
	if n, err := one.Reset(ctx, "activity", "urn:a"); err != nil || n != 1 {
		t.Fatalf("reset: %d, %v", n, err)
	}
	family, _ = load.StateFamily(filepath.Join(dir, "_state.json"))
	again, _ := load.OpenShardFileState(filepath.Join(dir, "_state.json"), family)
	if c, ok, _ := again.Cursor(ctx, "activity", "urn:a"); ok {
		t.Errorf("urn:a at %v after a reset", c)
	}
}

// Issue 17: one unreadable entry fails only its own (stream, contract):
// Cursor and InFlight of that pair name the file, the entry and how to
// clear it; every other pair works and can be written; the entry is kept
// as it was through those writes; List reports it; Reset clears it.
func TestFileStateUnreadableEntryIsolated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	os.WriteFile(path, []byte(`{"version": 1,
		"streams": {"activity": {"c1": {"cursor": "50000-01-01T00:00:00.000Z"}, "c2": {"cursor": "2026-03-01"}},
		            "seat": {"c1": {"cursor": 17}}},
		"jobs": {"activity_outcome": {"c1": {"id": "seven"}}}}`), 0o600)
	s, err := load.OpenFileState(path)
	if err != nil {
		t.Fatalf("one bad entry stopped the whole state: %v", err)
	}
	ctx := context.Background()
	for _, k := range [][2]string{{"activity", "c1"}, {"seat", "c1"}, {"activity_outcome", "c1"}} {
		_, _, cerr := s.Cursor(ctx, k[0], k[1])
		_, jerr := s.InFlight(ctx, k[0], k[1])
		for _, err := range []error{cerr, jerr} {
			if !errors.Is(err, load.ErrStateCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), k[0]+"/"+k[1]) ||
				!strings.Contains(err.Error(), "state reset --stream "+k[0]) {
				t.Errorf("%s/%s: %v, want ErrStateCorrupt naming the file, the entry and state reset", k[0], k[1], err)
			}
		}
	}
	if c, ok, err := s.Cursor(ctx, "activity", "c2"); err != nil || !ok || c.Format(time.DateOnly) != "2026-03-01" {
		t.Errorf("a good entry beside a bad one: %v %v %v", c, ok, err)
	}
	if err := s.SetCursor(ctx, "activity", "c2", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	for _, kept := range []string{"50000-01-01T00:00:00.000Z", `"cursor": 17`, `"seven"`, "2026-03-02"} {
		if !strings.Contains(string(raw), kept) {
			t.Errorf("the state file lost %s on a write:\n%s", kept, raw)
		}
	}
	es, _ := s.List(ctx)
	problems := 0
	for _, e := range es {
		if e.Problem != "" {
			problems++
		}
	}
	if problems != 3 {
		t.Errorf("List reports %d unreadable entries, want 3: %+v", problems, es)
	}
	if n, err := s.Reset(ctx, "activity", "c1"); err != nil || n != 1 {
		t.Fatalf("reset: %d, %v", n, err)
	}
	s2, err := load.OpenFileState(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s2.Cursor(ctx, "activity", "c1"); ok || err != nil {
		t.Errorf("after reset: %v %v", ok, err)
	}
	if _, _, err := s2.Cursor(ctx, "seat", "c1"); !errors.Is(err, load.ErrStateCorrupt) {
		t.Errorf("reset of another entry cleared seat/c1: %v", err)
	}
}

// Issue 17: a cursor that could not be read back is refused, and nothing
// is written.
func TestCheckCursor(t *testing.T) {
	for _, tc := range []struct {
		t  time.Time
		ok bool
	}{
		{time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 3, 1, 10, 11, 12, 345e6, time.UTC), true},
		{time.UnixMilli(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli() * 1000), false},
		{time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2150, 1, 1, 0, 0, 0, 0, time.UTC), false},
	} {
		if err := load.CheckCursor(tc.t); (err == nil) != tc.ok || (err != nil && !errors.Is(err, load.ErrBadCursor)) {
			t.Errorf("%s: %v, want ok=%v", tc.t, err, tc.ok)
		}
	}
	path := filepath.Join(t.TempDir(), "state.json")
	s, _ := load.OpenFileState(path)
	if err := s.SetCursor(context.Background(), "crm_validation", "i", time.UnixMilli(1772323200000*1000)); !errors.Is(err, load.ErrBadCursor) {
		t.Errorf("a cursor in the year 58000: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused cursor wrote the state file: %v", err)
	}
}
