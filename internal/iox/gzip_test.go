package iox

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"testing"
)

func TestMaybeGunzip(t *testing.T) {
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	zw.Write(bytes.Repeat([]byte("a,b\n1,2\n"), 1000))
	zw.Close()
	plain := bytes.Repeat([]byte("a,b\n1,2\n"), 1000)

	for name, in := range map[string][]byte{"gzip": zbuf.Bytes(), "plain": plain} {
		r, gz, err := MaybeGunzip(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, plain) || gz != (name == "gzip") {
			t.Errorf("%s: %d bytes, gz=%v, err %v", name, len(got), gz, err)
		}
	}
	// A truncated gzip stream is an error, never a short clean file.
	r, _, err := MaybeGunzip(bytes.NewReader(zbuf.Bytes()[:zbuf.Len()/2]))
	if err == nil {
		_, err = io.ReadAll(r)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated gzip: %v, want io.ErrUnexpectedEOF", err)
	}
	// Empty and one-byte inputs are plain.
	for _, in := range [][]byte{nil, {0x1f}} {
		r, gz, err := MaybeGunzip(bytes.NewReader(in))
		got, _ := io.ReadAll(r)
		if err != nil || gz || !bytes.Equal(got, in) {
			t.Errorf("input %v: gz=%v err=%v got %v", in, gz, err, got)
		}
	}
}
