package airbyte

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
)

// LogHandler is a slog.Handler that writes each record as an Airbyte LOG
// message through w (so on standard output, in line with every other
// message): its level (DEBUG, INFO, WARN, ERROR), and as the message the
// record in slog's text form without the time and level (the platform
// stamps its own): msg="window loaded" stream=activity rows=1200.
func LogHandler(w *Writer, level slog.Leveler) slog.Handler {
	c := &capture{w: w}
	text := slog.NewTextHandler(c, &slog.HandlerOptions{Level: level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
			return slog.Attr{}
		}
		return a
	}})
	return &logHandler{text: text, c: c}
}

// capture receives the text handler's one Write per record and turns it
// into a message; the level is set under the lock by Handle.
type capture struct {
	mu    sync.Mutex
	w     *Writer
	level slog.Level
	err   error
}

func (c *capture) Write(p []byte) (int, error) {
	c.err = c.w.Log(levelName(c.level), strings.TrimSuffix(string(bytes.TrimSpace(p)), "\n"))
	return len(p), nil
}

type logHandler struct {
	text slog.Handler
	c    *capture
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.text.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	h.c.level = r.Level
	if err := h.text.Handle(ctx, r); err != nil {
		return err
	}
	return h.c.err
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{text: h.text.WithAttrs(attrs), c: h.c}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{text: h.text.WithGroup(name), c: h.c}
}

// levelName maps a slog level to the protocol's.
func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARN"
	case l >= slog.LevelInfo:
		return "INFO"
	}
	return "DEBUG"
}
