package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/salesnav-etl/salesnav-etl/internal/metrics"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	for {
		u, ok := w.(interface{ Unwrap() io.Writer })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newLogger logs to w: JSON lines, or text for people when format is
// "text", or "auto" and w is a terminal.
func newLogger(w io.Writer, level slog.Level, format string, terminal bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" || (format == "auto" && terminal) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// progress shows how the streams go while a run works: live bars on a
// terminal, or a log line every interval elsewhere.
type progress struct {
	stop func()
	// Writer is where log lines go meanwhile: above the bars on a
	// terminal, as is elsewhere.
	Writer io.Writer
}

// startProgress starts the display for streams, reading m's totals: bars
// on a terminal; elsewhere a line every interval, logged through the
// logger that newLog makes for the returned Writer.
func startProgress(w io.Writer, terminal bool, every time.Duration, streams []string, m *metrics.Run,
	newLog func(io.Writer) *slog.Logger) (*progress, *slog.Logger) {
	if terminal {
		p := startBars(w, streams, m)
		return p, newLog(p.Writer)
	}
	log := newLog(w)
	if every <= 0 {
		return &progress{stop: func() {}, Writer: w}, log
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				logProgress(log, streams, m.Totals())
			}
		}
	}()
	var once sync.Once
	return &progress{stop: func() { once.Do(func() { close(done); wg.Wait() }) }, Writer: w}, log
}

// logProgress writes one progress line: rows and bytes per stream so far.
func logProgress(log *slog.Logger, streams []string, totals map[string]metrics.Totals) {
	attrs := make([]any, 0, 2*len(streams))
	for _, s := range streams {
		t := totals[s]
		attrs = append(attrs, slog.Group(s, "rows", t.Rows, "bytes", t.Bytes))
	}
	log.Info("progress", attrs...)
}

// startBars shows a bar per stream on the terminal w: rows parsed and
// bytes downloaded, live. Log lines written to the returned Writer appear
// above the bars.
func startBars(w io.Writer, streams []string, m *metrics.Run, opts ...mpb.ContainerOption) *progress {
	// Not tied to the run's context: a cancelled run must not drop the log
	// lines waiting for the next redraw. stop ends it.
	p := mpb.New(append([]mpb.ContainerOption{mpb.WithOutput(w), mpb.WithWidth(24), mpb.WithRefreshRate(150 * time.Millisecond)}, opts...)...)
	width := 0
	for _, s := range streams {
		width = max(width, len(s))
	}
	var bars []*mpb.Bar
	for _, s := range streams {
		bars = append(bars, p.New(0, mpb.SpinnerStyle(),
			mpb.PrependDecorators(decor.Name(s, decor.WC{W: width + 1, C: decor.DindentRight})),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
				t := m.Totals()[s]
				return fmt.Sprintf("%10d rows  %9s", t.Rows, humanBytes(t.Bytes))
			})),
		))
	}
	lw := &barWriter{p: p, fallback: w}
	var once sync.Once
	return &progress{Writer: lw, stop: func() {
		once.Do(func() {
			for _, b := range bars {
				b.SetTotal(-1, true) // complete: the bars stay with their totals
			}
			p.Wait()
			lw.mu.Lock()
			lw.done = true
			lw.mu.Unlock()
		})
	}}
}

// barWriter writes log lines above the bars, and straight to the terminal
// once they are gone.
type barWriter struct {
	mu       sync.Mutex
	p        *mpb.Progress
	fallback io.Writer
	done     bool
}

func (b *barWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	done := b.done
	b.mu.Unlock()
	if !done {
		if n, err := b.p.Write(slices.Clone(p)); err == nil {
			return n, nil
		}
	}
	return b.fallback.Write(p)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// finishMetrics records the run's outcome and hands the metrics to the
// configured file and Pushgateway; a failure there is logged, never
// changes the exit code.
func finishMetrics(ctx context.Context, cfg *Config, m *metrics.Run, sum *pipeline.Summary, code int, began time.Time, log *slog.Logger) {
	m.Finish(sum, code, time.Since(began), time.Now(), cfg.Pipeline.Backfill)
	if cfg.MetricsFile != "" {
		if err := m.WriteFile(cfg.MetricsFile); err != nil {
			log.Error("writing metrics", "error", err)
		} else {
			log.Info("metrics written", "path", cfg.MetricsFile)
		}
	}
	if cfg.PushgatewayURL != "" {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if err := m.Push(pctx, cfg.PushgatewayURL, cfg.MetricsInstance, nil); err != nil {
			log.Error("pushing metrics", "error", err)
		} else {
			log.Info("metrics pushed", "pushgateway", metrics.Redact(cfg.PushgatewayURL))
		}
	}
}
