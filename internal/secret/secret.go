// Package secret keeps credentials out of what the program prints. It has
// two layers: Scrub, used at the boundary where an error leaves a library
// call that knows a credentialed URL (the library's text is not ours to
// trust), and Set, the last line of defence over every byte the command
// line writes (logs, errors, summaries, panics).
package secret

import (
	"errors"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Mask replaces a secret in text.
const Mask = "xxxxx"

// MinLen is the shortest value Set and Scrub replace: shorter ones would
// mask ordinary words and digits all over the output (a password of three
// characters is no secret anyway).
const MinLen = 4

// FromURL returns the secrets a URL carries: its password (as written and
// decoded) and the values of its query parameters whose names say they
// are credentials (sig, signature, token, key, secret, password,
// credential, auth: download signatures, API keys), not settings such as
// secure=true, which masked would hide every "true" of the output.
// An unparsable URL yields the text after "://" up to the last '@', the
// place a password would be.
func FromURL(raw string) []string {
	var out []string
	u, err := url.Parse(raw)
	if err != nil {
		if i, j := strings.Index(raw, "://"), strings.LastIndexByte(raw, '@'); i >= 0 && j > i+3 {
			out = append(out, raw[i+3:j])
		}
		return out
	}
	if pw, ok := u.User.Password(); ok {
		out = append(out, pw, url.QueryEscape(pw), url.PathEscape(pw))
	}
	if u.User != nil {
		if s := u.User.String(); strings.Contains(s, ":") {
			_, rawPW, _ := strings.Cut(s, ":")
			out = append(out, rawPW)
		}
	}
	for k, vs := range u.Query() {
		if credentialParam(k) {
			out = append(out, vs...)
		}
	}
	return out
}

// credentialParam reports whether a query parameter's name says it holds
// a credential.
func credentialParam(name string) bool {
	name = strings.ToLower(name)
	for _, w := range []string{"sig", "token", "key", "secret", "pass", "credential", "auth"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// Scrub returns err with every secret of its text masked, or nil for a nil
// err. The result does not unwrap to err (an unwrapped error would print
// the original text): callers classify err before scrubbing it.
func Scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	out := ScrubString(msg, secrets...)
	if out == msg {
		return err
	}
	return errors.New(out)
}

// ScrubString masks every secret of at least MinLen bytes in s, the
// longest first (so that a secret that contains another is masked whole).
func ScrubString(s string, secrets ...string) string {
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range secrets {
		if len(sec) >= MinLen {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	return s
}

// Set is the secrets of one run, masked in everything written through its
// Writers. Safe for concurrent use; Add may be called while writing.
type Set struct {
	mu   sync.RWMutex
	vals []string
}

// Add adds secrets; values shorter than MinLen are ignored.
func (s *Set) Add(vals ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vals {
		if len(v) >= MinLen && !slices.Contains(s.vals, v) {
			s.vals = append(s.vals, v)
		}
	}
}

// String masks s's secrets in text.
func (s *Set) String(text string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return ScrubString(text, s.vals...)
}

// Writer returns a writer that masks s's secrets in each Write before
// passing it on to w. A secret split across two Writes is not seen: the
// program's writers (slog handlers, fmt.Fprint*) write a line at once.
// The returned count is len(p) when w took the whole masked text.
func (s *Set) Writer(w io.Writer) io.Writer { return &writer{set: s, w: w} }

type writer struct {
	set *Set
	w   io.Writer
}

func (w *writer) Write(p []byte) (int, error) {
	out := w.set.String(string(p))
	if _, err := io.WriteString(w.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Unwrap returns the writer underneath (for terminal detection).
func (w *writer) Unwrap() io.Writer { return w.w }
