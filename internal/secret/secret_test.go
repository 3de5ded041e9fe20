package secret

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestFromURL(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want []string
	}{
		{"http://ops:pa55w0rd@gw:9091", []string{"pa55w0rd"}},
		{"clickhouse://u:p%40ss%2Fword@h:9000/db", []string{"p@ss/word", "p%40ss%2Fword"}},
		{"https://files/x.csv?sig=abcdef123&X-Amz-Security-Token=tok123", []string{"abcdef123", "tok123"}},
		{"http://gw:9091", nil},
		{"clickhouse://u@h:9000/db?secure=true&dial_timeout=10s", nil},
		{"http://[::1:bad/u:pa55w0rd@x", []string{"[::1:bad/u:pa55w0rd"}},
	} {
		got := FromURL(tc.raw)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("FromURL(%q) = %q, lacks %q", tc.raw, got, w)
			}
		}
		if tc.want == nil && len(got) > 0 {
			t.Errorf("FromURL(%q) = %q, want none", tc.raw, got)
		}
	}
}

func TestScrub(t *testing.T) {
	err := fmt.Errorf("pushing: %w", errors.New("status 401 at http://ops:pa55w0rd@gw/metrics and again pa55w0rd"))
	got := Scrub(err, "pa55w0rd", "abc").Error()
	if want := "pushing: status 401 at http://ops:xxxxx@gw/metrics and again xxxxx"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if Scrub(nil, "x") != nil {
		t.Error("Scrub(nil) is not nil")
	}
	// A short value is not masked (it would mask ordinary text); a secret
	// holding another is masked whole.
	if got := ScrubString("id abc, token abcdefgh", "abc", "abcdefgh", "abcd"); got != "id abc, token xxxxx" {
		t.Errorf("got %q", got)
	}
}

func TestSetWriter(t *testing.T) {
	var set Set
	set.Add("s3cr3t-value", "ab")
	var buf bytes.Buffer
	w := set.Writer(&buf)
	line := []byte(`{"msg":"failed","error":"token s3cr3t-value refused; ab"}` + "\n")
	n, err := w.Write(line)
	if err != nil || n != len(line) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	set.Add("refused")
	fmt.Fprint(w, "later: refused\n")
	if want := `{"msg":"failed","error":"token xxxxx refused; ab"}` + "\nlater: xxxxx\n"; buf.String() != want {
		t.Errorf("wrote %q, want %q", buf.String(), want)
	}
}
