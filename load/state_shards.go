package load

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/salesnav-etl/salesnav-etl/load/storage"
)

// familyPattern matches the names of base's family: the file itself and
// its shards' <stem>.shard-<i><ext>.
func familyPattern(file string) *regexp.Regexp {
	ext := filepath.Ext(file)
	stem := strings.TrimSuffix(file, ext)
	return regexp.MustCompile(`^` + regexp.QuoteMeta(stem) + `(\.shard-[0-9]+)?` + regexp.QuoteMeta(ext) + `$`)
}

// StateFamily lists the state files that sit beside base (the unsharded
// state path, such as out/_state.json): base itself and the shard files
// <base>.shard-<i><ext>, those that exist.
func StateFamily(base string) ([]string, error) {
	dir, file := filepath.Split(base)
	re := familyPattern(file)
	entries, err := os.ReadDir(filepath.Clean(dir + "."))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing state files beside %s: %w", base, err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && re.MatchString(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// ShardStatePath is shard i's state file beside base:
// <base>.shard-<i><ext> (out/_state.shard-2.json).
func ShardStatePath(base string, i int) string {
	base, query := storage.CutQuery(base)
	ext := path.Ext(base)
	return strings.TrimSuffix(base, ext) + ".shard-" + strconv.Itoa(i) + ext + query
}

// OpenShardFileState opens the state file at path, which only this run
// writes, and reads the cursors of peers (the other files of its family:
// the unsharded file, the other shards'), once. A contract that moves to
// this run's shard when the number of shards changes (or back to an
// unsharded run) goes on from the furthest cursor any of them saved.
// Reset clears the peers' copies too, or they would bring the cursor back.
func OpenShardFileState(path string, peers []string) (*FileState, error) {
	return openShardState(context.Background(), osFiles{}, path, peers)
}

func openShardState(ctx context.Context, files stateFiles, path string, peers []string) (*FileState, error) {
	s, err := openState(ctx, files, path)
	if err != nil {
		return nil, err
	}
	s.peers = map[string]map[string]time.Time{}
	for _, p := range peers {
		if filepath.Clean(p) == filepath.Clean(path) {
			continue
		}
		peer, err := openState(ctx, files, p)
		if err != nil {
			return nil, err
		}
		s.found = s.found || peer.found
		s.peerPaths = append(s.peerPaths, p)
		for stream, m := range peer.doc.Streams {
			if s.peers[stream] == nil {
				s.peers[stream] = map[string]time.Time{}
			}
			for contract, e := range m {
				t, _ := parseCursor(e.Cursor) // checked by OpenFileState
				if t.After(s.peers[stream][contract]) {
					s.peers[stream][contract] = t
				}
			}
		}
	}
	return s, nil
}

// OpenState opens the state at statePath, a local path or an object URL,
// reading the cursors of its family (the files beside familyBase, its
// unsharded path; see OpenShardFileState). A URL's state lives in its
// bucket, written whole on every change. The caller closes it.
func OpenState(ctx context.Context, statePath, familyBase string, opts storage.BlobOptions) (*FileState, error) {
	if !storage.IsURL(statePath) {
		peers, err := StateFamily(familyBase)
		if err != nil {
			return nil, err
		}
		return OpenShardFileState(statePath, peers)
	}
	dir, name := storage.SplitLocation(statePath)
	_, base := storage.SplitLocation(familyBase)
	bs, err := storage.OpenBlobStorage(ctx, dir, opts)
	if err != nil {
		return nil, fmt.Errorf("opening state %s: %w", statePath, err)
	}
	base, _, _ = strings.Cut(base, "?")
	name, _, _ = strings.Cut(name, "?")
	re := familyPattern(base)
	keys, err := bs.TopLevel(ctx)
	if err != nil {
		bs.Close()
		return nil, err
	}
	var peers []string
	for _, k := range keys {
		if re.MatchString(k) {
			peers = append(peers, k)
		}
	}
	s, err := openShardState(ctx, bs, name, peers)
	if err != nil {
		bs.Close()
		return nil, err
	}
	s.closer = bs
	return s, nil
}

// stateShardName matches the name of a shard's state file: the index.
var stateShardName = regexp.MustCompile(`\.shard-([0-9]+)(\.[^./\\]*)?$`)

// StateShard is the shard index that a state file's name carries
// (out/_state.shard-2.json: 2), or -1 for an unsharded one.
func StateShard(statePath string) int {
	p, _ := storage.CutQuery(statePath)
	m := stateShardName.FindStringSubmatch(path.Base(filepath.ToSlash(p)))
	if m == nil {
		return -1
	}
	i, err := strconv.Atoi(m[1])
	if err != nil {
		return -1
	}
	return i
}

// Peers are the other state files of the family read at open (see
// OpenShardFileState), which Reset rewrites too: paths, or names in the
// state's bucket.
func (s *FileState) Peers() []string { return slices.Clone(s.peerPaths) }
