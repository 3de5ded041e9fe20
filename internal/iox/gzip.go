// Package iox holds small I/O helpers shared by extract and transform.
package iox

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// MaybeGunzip returns a reader of r's content, decompressed when r starts
// with the gzip magic bytes (1f 8b) and as it is otherwise. Closing the
// result closes the decompressor only; r stays the caller's. A truncated
// gzip stream reads as io.ErrUnexpectedEOF, never as a short clean file.
func MaybeGunzip(r io.Reader) (io.ReadCloser, bool, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, fmt.Errorf("sniffing gzip header: %w", err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, true, fmt.Errorf("opening gzip stream: %w", err)
		}
		return zr, true, nil
	}
	return io.NopCloser(br), false, nil
}
