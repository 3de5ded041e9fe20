package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob://
	_ "gocloud.dev/blob/gcsblob"   // gs://
	_ "gocloud.dev/blob/s3blob"    // s3://
	"gocloud.dev/gcerrors"
)

// BlobOptions configures object storage.
type BlobOptions struct {
	// S3Endpoint is the base URL of an S3-compatible server (MinIO, Ceph,
	// R2...). When set, requests use path-style addressing, checksums only
	// where S3 requires them, and region us-east-1 unless the URL or
	// AWS_REGION names one.
	S3Endpoint string
}

// urlScheme matches a location that is a URL rather than a local path.
var urlScheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://`)

// IsURL reports whether loc is an object-storage URL (s3://, gs://,
// azblob://) rather than a local path.
func IsURL(loc string) bool { return urlScheme.MatchString(loc) }

// JoinLocation appends a slash name to a local directory or a storage URL,
// keeping a URL's query (its options) at the end.
func JoinLocation(loc, name string) string {
	if !IsURL(loc) {
		return path.Join(loc, name)
	}
	base, query, _ := strings.Cut(loc, "?")
	out := strings.TrimSuffix(base, "/") + "/" + name
	if query != "" {
		out += "?" + query
	}
	return out
}

// SplitLocation splits a storage URL or a local path into its directory
// (a URL keeps its query) and its last element.
func SplitLocation(loc string) (dir, name string) {
	if !IsURL(loc) {
		d, n := path.Split(loc)
		return strings.TrimSuffix(d, "/"), n
	}
	base, query, _ := strings.Cut(loc, "?")
	i := strings.LastIndex(base, "/")
	dir, name = base[:i], base[i+1:]
	if query != "" {
		dir += "?" + query
	}
	return dir, name
}

// BlobStorage is Storage in an object store bucket, below a prefix, through
// gocloud.dev/blob. An object is uploaded whole (in parts when big) and
// becomes visible only when its upload completes, so nothing partial is
// ever listed; replacing a partition is a PUT over its object; an upload
// aborted (or killed) leaves only an incomplete multipart upload, which the
// bucket's lifecycle rule should expire.
type BlobStorage struct {
	bucket *blob.Bucket
	loc    string // the URL without its query, for messages
}

var _ Storage = (*BlobStorage)(nil)

// OpenBlobStorage opens the bucket of a URL such as
// s3://bucket/prefix?region=eu-west-1 (also gs:// and azblob://), with
// credentials from the provider's standard chain (for S3: environment,
// shared profile, web identity as with IRSA, instance role). It checks
// access by listing one object, so wrong credentials fail here, before
// anything is written. The caller closes it.
func OpenBlobStorage(ctx context.Context, rawURL string, opts BlobOptions) (*BlobStorage, error) {
	b, loc, err := openBucket(ctx, rawURL, opts)
	if err != nil {
		return nil, err
	}
	bs := &BlobStorage{bucket: b, loc: loc}
	sweepUploads()
	// Files are staged locally before upload: fail now, not after an
	// export was downloaded, when the temporary directory is not writable.
	f, err := os.CreateTemp("", uploadPrefix+"*.tmp")
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("opening %s: staging uploads needs a writable temporary directory (TMPDIR): %w", loc, err)
	}
	f.Close()
	os.Remove(f.Name())
	if _, _, err := b.ListPage(ctx, blob.FirstPageToken, 1, nil); err != nil {
		b.Close()
		if errorCode(err) == gcerrors.NotFound { // listing a missing bucket
			return nil, fmt.Errorf("checking access to %s: %w: no such bucket: %v", loc, ErrStorageAccess, err)
		}
		return nil, bs.describe("checking access to "+loc, err)
	}
	return bs, nil
}

// openBucket opens rawURL's bucket narrowed to its path as a prefix.
func openBucket(ctx context.Context, rawURL string, opts BlobOptions) (*blob.Bucket, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", fmt.Errorf("parsing storage URL %q: %w", rawURL, err)
	}
	if u.Host == "" {
		return nil, "", fmt.Errorf("storage URL %q names no bucket", rawURL)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" && path.Clean(prefix) != prefix {
		return nil, "", fmt.Errorf("storage URL %q: prefix %q is not a clean path", rawURL, prefix)
	}
	q := u.Query()
	switch u.Scheme {
	case "s3":
		if opts.S3Endpoint != "" {
			if !q.Has("endpoint") {
				q.Set("endpoint", opts.S3Endpoint)
			}
			if !q.Has("use_path_style") {
				q.Set("use_path_style", "true")
			}
			if !q.Has("request_checksum_calculation") {
				q.Set("request_checksum_calculation", "when_required")
			}
			if !q.Has("response_checksum_validation") {
				q.Set("response_checksum_validation", "when_required")
			}
			if !q.Has("region") && os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
				q.Set("region", "us-east-1")
			}
		}
	case "gs", "azblob":
	default:
		return nil, "", fmt.Errorf("storage URL %q: scheme %q is not supported (s3, gs, azblob, or a local path)", rawURL, u.Scheme)
	}
	loc := u.Scheme + "://" + u.Host
	if prefix != "" {
		loc += "/" + prefix
	}
	open := url.URL{Scheme: u.Scheme, Host: u.Host, RawQuery: q.Encode()}
	b, err := blob.OpenBucket(ctx, open.String())
	if err != nil {
		return nil, "", fmt.Errorf("opening %s: %w", loc, err)
	}
	if prefix != "" {
		b = blob.PrefixedBucket(b, prefix+"/")
	}
	return b, loc, nil
}

// describe wraps an object-store error, saying what a denial means; a
// missing object wraps fs.ErrNotExist.
func (s *BlobStorage) describe(doing string, err error) error {
	switch errorCode(err) {
	case gcerrors.PermissionDenied:
		return fmt.Errorf("%s: %w: access denied: check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or the pod's web identity) and the bucket policy: %v", doing, ErrStorageAccess, err)
	case gcerrors.NotFound:
		return fmt.Errorf("%s: %w: %v", doing, fs.ErrNotExist, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// errorCode is gocloud's code of an object-store error, with S3's HTTP
// statuses (which the S3 driver leaves Unknown) mapped too.
func errorCode(err error) gcerrors.ErrorCode {
	var status interface{ HTTPStatusCode() int } // S3's errors, by the SDK
	if errors.As(err, &status) {
		switch status.HTTPStatusCode() {
		case 401, 403:
			return gcerrors.PermissionDenied
		case 404:
			return gcerrors.NotFound
		case 412:
			return gcerrors.FailedPrecondition
		}
	}
	return gcerrors.Code(err)
}

// Close closes the bucket.
func (s *BlobStorage) Close() error { return s.bucket.Close() }

// Location returns the object's URL.
func (s *BlobStorage) Location(name string) string { return s.loc + "/" + name }

func checkName(name string) error {
	if name == "" || strings.Contains(name, "\x00") || path.Clean("/"+name) != "/"+name {
		return fmt.Errorf("storage name %q is not a clean relative path", name)
	}
	return nil
}

// Create stages name in a local temporary file (in os.TempDir); Commit
// uploads it whole. So a window with many partitions open holds their
// bytes on disk, not in memory, and the uploads go one at a time.
func (s *BlobStorage) Create(ctx context.Context, name string) (Staged, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", uploadPrefix+"*.tmp")
	if err != nil {
		return nil, fmt.Errorf("staging %s: %w", s.Location(name), err)
	}
	return &stagedObject{s: s, name: name, f: f}, nil
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".parquet":
		return "application/vnd.apache.parquet"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}

// Upload sizes: parts of 8 MiB (past 16 MiB an object goes up in parts),
// four at a time.
const (
	uploadPartSize    = 8 << 20
	uploadConcurrency = 4
	// uploadTimeout bounds one object's upload.
	uploadTimeout = 30 * time.Minute
	// uploadPrefix names the local files staged for upload.
	uploadPrefix = "salesnav-upload-"
)

// sweepUploads removes files staged for upload that a killed process left
// in the temporary directory more than six hours ago.
func sweepUploads() {
	dir := os.TempDir()
	matches, _ := filepath.Glob(filepath.Join(dir, uploadPrefix+"*.tmp"))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && time.Since(fi.ModTime()) > 6*time.Hour {
			os.Remove(m)
		}
	}
}

type stagedObject struct {
	s    *BlobStorage
	name string
	f    *os.File
	done bool
}

func (o *stagedObject) Write(p []byte) (int, error) { return o.f.Write(p) }

// Commit uploads the file: the object appears whole, replacing any, only
// when the upload completes; a failed upload leaves no object.
func (o *stagedObject) Commit(ctx context.Context) error {
	if o.done {
		return ErrStagedDone
	}
	o.done = true
	defer o.discard()
	if _, err := o.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("uploading %s: %w", o.s.Location(o.name), err)
	}
	// A stalled connection must not hold the run for ever.
	ctx, cancel := context.WithTimeout(ctx, uploadTimeout)
	defer cancel()
	w, err := o.s.bucket.NewWriter(ctx, o.name, &blob.WriterOptions{ContentType: contentType(o.name),
		BufferSize: uploadPartSize, MaxConcurrency: uploadConcurrency})
	if err != nil {
		return o.s.describe("uploading "+o.s.Location(o.name), err)
	}
	if _, err := io.Copy(w, o.f); err != nil {
		cancel() // aborts the upload
		w.Close()
		return o.s.describe("uploading "+o.s.Location(o.name), err)
	}
	if err := w.Close(); err != nil {
		return o.s.describe("uploading "+o.s.Location(o.name), err)
	}
	return nil
}

// Abort drops the staged file; nothing was uploaded.
func (o *stagedObject) Abort() error {
	if o.done {
		return nil
	}
	o.done = true
	o.discard()
	return nil
}

func (o *stagedObject) discard() {
	o.f.Close()
	os.Remove(o.f.Name())
}

// Remove deletes name; a missing object is not an error.
func (s *BlobStorage) Remove(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := s.bucket.Delete(ctx, name); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return s.describe("removing "+s.Location(name), err)
	}
	return nil
}

// Exists reports whether the object exists.
func (s *BlobStorage) Exists(ctx context.Context, name string) (bool, error) {
	if err := checkName(name); err != nil {
		return false, err
	}
	ok, err := s.bucket.Exists(ctx, name)
	if err != nil {
		return false, s.describe("checking "+s.Location(name), err)
	}
	return ok, nil
}

// List returns the objects under prefix whose names end in suffix, sorted.
func (s *BlobStorage) List(ctx context.Context, prefix, suffix string) ([]string, error) {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	var out []string
	it := s.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, s.describe("listing "+s.Location(prefix), err)
		}
		if !obj.IsDir && strings.HasSuffix(obj.Key, suffix) {
			out = append(out, obj.Key)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Open opens an object for random access (each ReadAt is a range request).
func (s *BlobStorage) Open(ctx context.Context, name string) (File, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	attrs, err := s.bucket.Attributes(ctx, name)
	if err != nil {
		return nil, s.describe("opening "+s.Location(name), err)
	}
	// Reads follow ctx: the file does not outlive the caller's operation.
	return &blobFile{ctx: ctx, s: s, name: name, size: attrs.Size}, nil
}

// ReadAll returns the whole object; a missing one is fs.ErrNotExist.
func (s *BlobStorage) ReadAll(ctx context.Context, name string) ([]byte, error) {
	raw, err := s.bucket.ReadAll(ctx, name)
	if err != nil {
		return nil, s.describe("reading "+s.Location(name), err)
	}
	return raw, nil
}

// WriteAll replaces the object with data, whole.
func (s *BlobStorage) WriteAll(ctx context.Context, name string, data []byte) error {
	st, err := s.Create(ctx, name)
	if err != nil {
		return err
	}
	if _, err := st.Write(data); err != nil {
		st.Abort()
		return s.describe("uploading "+s.Location(name), err)
	}
	return st.Commit(ctx)
}

// blobFile reads an object through ranged reads. It keeps the context of
// Open: io.ReaderAt, which the Parquet reader asks for, has no context of
// its own.
type blobFile struct {
	ctx  context.Context
	s    *BlobStorage
	name string
	size int64
	off  int64
}

func (f *blobFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	if off+n > f.size {
		n = f.size - off
	}
	r, err := f.s.bucket.NewRangeReader(f.ctx, f.name, off, n, nil)
	if err != nil {
		return 0, f.s.describe("reading "+f.s.Location(f.name), err)
	}
	defer r.Close()
	got, err := io.ReadFull(r, p[:n])
	if err == nil && n < int64(len(p)) {
		err = io.EOF
	}
	return got, err
}

func (f *blobFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.size
	default:
		return 0, fmt.Errorf("seeking %s: bad whence %d", f.name, whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("seeking %s: negative offset", f.name)
	}
	f.off = offset
	return offset, nil
}

func (f *blobFile) Close() error { return nil }

// OpenStorage opens the Parquet dataset root loc: a local directory
// (created when missing) or an object-storage URL (OpenBlobStorage).
func OpenStorage(ctx context.Context, loc string, opts BlobOptions) (Storage, error) {
	if IsURL(loc) {
		return OpenBlobStorage(ctx, loc, opts)
	}
	return NewDirStorage(loc)
}

// CutQuery splits a storage URL's query ("?…", options) from the rest; a
// local path has none.
func CutQuery(loc string) (rest, query string) {
	if !IsURL(loc) {
		return loc, ""
	}
	if i := strings.IndexByte(loc, '?'); i >= 0 {
		return loc[:i], loc[i:]
	}
	return loc, ""
}

// TopLevel lists the objects at the top of the bucket's prefix, not those
// below a further "/" (the state files beside the dataset's directories).
func (s *BlobStorage) TopLevel(ctx context.Context) ([]string, error) {
	var keys []string
	it := s.bucket.List(&blob.ListOptions{Delimiter: "/"})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return keys, nil
		}
		if err != nil {
			return nil, s.describe("listing state objects in "+s.loc, err)
		}
		if !obj.IsDir {
			keys = append(keys, obj.Key)
		}
	}
}
