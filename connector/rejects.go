package connector

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/salesnav-etl/salesnav-etl/transform"
)

// RejectCount is how many rows of a stream were rejected for one reason
// in one column.
type RejectCount struct {
	Stream, Column, Reason string
	Rows                   int64
}

// CountRejects reads the rejects files a run wrote below dir (JSON Lines
// of transform.Reject) and counts them by stream, column and reason,
// sorted by stream, then most rows first. Only these are kept: a rejected
// row's values stay out of the protocols' logs. A missing dir has none.
func CountRejects(dir string) ([]RejectCount, error) {
	counts := map[[3]string]int64{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".jsonl") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			var r transform.Reject
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			counts[[3]string{r.Stream, r.Column, r.Reason}]++
		}
		return sc.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("counting rejects in %s: %w", dir, err)
	}
	out := make([]RejectCount, 0, len(counts))
	for k, n := range counts {
		out = append(out, RejectCount{Stream: k[0], Column: k[1], Reason: k[2], Rows: n})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Stream != b.Stream {
			return a.Stream < b.Stream
		}
		if a.Rows != b.Rows {
			return a.Rows > b.Rows
		}
		return a.Column+"\x00"+a.Reason < b.Column+"\x00"+b.Reason
	})
	return out, nil
}

// RejectSummary words a stream's reject counts in one line, such as
// "3 rows rejected: 2 seatId (not an integer), 1 activityType (not one of
// …)"; "" when there are none.
func RejectSummary(stream string, counts []RejectCount) (string, int64) {
	var total int64
	var parts []string
	for _, c := range counts {
		if c.Stream != stream {
			continue
		}
		total += c.Rows
		what := c.Column
		if what == "" {
			what = "row"
		}
		parts = append(parts, fmt.Sprintf("%d %s (%s)", c.Rows, what, c.Reason))
	}
	if total == 0 {
		return "", 0
	}
	return fmt.Sprintf("%s: %d row(s) rejected, never sent as records: %s", stream, total, strings.Join(parts, ", ")), total
}
