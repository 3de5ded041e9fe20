package connector

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// writes records every Write it is given.
type writes struct {
	mu sync.Mutex
	w  [][]byte
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.w = append(w.w, bytes.Clone(p))
	return len(p), nil
}

// Lines from many goroutines, and windows copied whole, come out as whole
// lines, each Write ending at a line's end, and a window's lines
// together.
func TestOutputLines(t *testing.T) {
	var w writes
	out := NewOutput(&w)
	window := strings.Repeat("window line 0123456789\n", 200_000) // 4.6 MB: several chunks
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if err := out.Line([]byte(fmt.Sprintf("goroutine %d line %d\n", g, i))); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	if n, err := out.CopyLines(strings.NewReader(window)); err != nil || n != int64(len(window)) {
		t.Fatalf("copy: %d %v", n, err)
	}
	wg.Wait()
	var all bytes.Buffer
	for _, p := range w.w {
		if len(p) == 0 || p[len(p)-1] != '\n' {
			t.Fatalf("a Write does not end a line: %.40q", p)
		}
		all.Write(p)
	}
	if !strings.Contains(all.String(), window) {
		t.Error("the window's lines are not together")
	}
	if got := strings.Count(all.String(), "goroutine"); got != 800 {
		t.Errorf("%d goroutine lines, want 800", got)
	}
}

// A line longer than the copy chunk goes whole; a spool cut in the middle
// of a line is an error, after its whole lines.
func TestOutputCopyEdges(t *testing.T) {
	var w writes
	out := NewOutput(&w)
	long := strings.Repeat("x", 3*copyChunk) + "\n"
	if _, err := out.CopyLines(strings.NewReader("a\n" + long + "b\n")); err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	for _, p := range w.w {
		all.Write(p)
	}
	if all.String() != "a\n"+long+"b\n" {
		t.Errorf("long line: %d bytes out", all.Len())
	}
	if _, err := out.CopyLines(strings.NewReader("c\nd")); !errors.Is(err, ErrPartialLine) {
		t.Errorf("partial line: %v", err)
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// After a failed write every write fails: nobody reads any more.
func TestOutputFailsOnce(t *testing.T) {
	out := NewOutput(failing{})
	if err := out.Line([]byte("a\n")); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("first: %v", err)
	}
	if err := out.JSON(map[string]int{"a": 1}); err == nil {
		t.Error("second write succeeded")
	}
}
