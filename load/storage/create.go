package storage

import (
	"context"
	"fmt"
	"io/fs"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// CreateIfAbsent writes data at name only when no object is there, in one
// conditional request (on S3, If-None-Match: *); an object already there
// wraps fs.ErrExist and is left as it was. A server that ignores the
// condition overwrites instead: lease.Blob checks for that.
func (s *BlobStorage) CreateIfAbsent(ctx context.Context, name string, data []byte) error {
	if err := checkName(name); err != nil {
		return err
	}
	w, err := s.bucket.NewWriter(ctx, name, &blob.WriterOptions{ContentType: contentType(name), IfNotExist: true})
	if err == nil {
		_, err = w.Write(data)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if errorCode(err) == gcerrors.FailedPrecondition {
		return fmt.Errorf("creating %s: %w", s.Location(name), fs.ErrExist)
	}
	if err != nil {
		return s.describe("creating "+s.Location(name), err)
	}
	return nil
}
