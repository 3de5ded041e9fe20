package testkit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
)

// S3 is an S3-compatible server started on loopback for one test, with one
// empty bucket.
type S3 struct {
	// Kind is "minio" or "s3rver".
	Kind              string
	Endpoint          string // a recording proxy in front of the server
	AccessKey, Secret string
	Bucket            string
	Dir               string // the server's data directory
	client            *s3.Client
	cmd               *exec.Cmd
	log               *bytes.Buffer
	mu                sync.Mutex
	calls             []string
	writes            []string
	// conditional serializes the conditional creates the proxy checks
	// for s3rver; ignoreConditions drops their condition instead.
	conditional      sync.Mutex
	ignoreConditions bool
}

// IgnoreConditionalWrites makes the server ignore If-None-Match on PUT
// from now on, as s3rver and some S3-compatible servers do: a create
// only-if-absent then overwrites.
func (s *S3) IgnoreConditionalWrites() {
	s.mu.Lock()
	s.ignoreConditions = true
	s.mu.Unlock()
}

// conditionalPut serves a PUT of a whole object carrying If-None-Match: *
// (a create only if absent) as S3 does when the server would not: MinIO
// honours the condition itself; s3rver ignores it, so the proxy answers
// 412 PreconditionFailed when the object exists, the check and the write
// serialized. With IgnoreConditionalWrites the object is written whatever
// is there. It
// reports whether it served the request.
func (s *S3) conditionalPut(w http.ResponseWriter, r *http.Request, forward http.Handler) bool {
	if r.Method != http.MethodPut || r.Header.Get("If-None-Match") != "*" || r.URL.Query().Has("partNumber") {
		return false
	}
	s.mu.Lock()
	ignore := s.ignoreConditions
	s.mu.Unlock()
	key, ok := strings.CutPrefix(r.URL.Path, "/"+s.Bucket+"/")
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	if ignore {
		// The header is signed: the proxy writes the object itself,
		// unconditionally, and answers as the server would have.
		body, err := io.ReadAll(r.Body)
		if err == nil {
			_, err = s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return true
		}
		w.WriteHeader(http.StatusOK)
		return true
	}
	if s.Kind != "s3rver" {
		return false
	}
	s.conditional.Lock()
	defer s.conditional.Unlock()
	if _, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)}); err == nil {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusPreconditionFailed)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition><Key>%s</Key></Error>`, key)
		return true
	}
	forward.ServeHTTP(w, r)
	return true
}

// Writes returns the keys written or deleted so far through the test's
// endpoint (PUT, DELETE, and multipart completions), in order, as
// "METHOD key".
func (s *S3) Writes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.writes)
}

// Calls returns the requests made so far through the test's endpoint, as
// "METHOD op" where op names multipart steps: "POST uploads" (create),
// "PUT part", "POST complete", "DELETE upload" (abort), else "object".
func (s *S3) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

func (s *S3) record(r *http.Request) {
	q := r.URL.Query()
	op := "object"
	switch {
	case q.Has("uploads"):
		op = "uploads"
	case q.Has("partNumber"):
		op = "part"
	case q.Has("uploadId") && r.Method == http.MethodPost:
		op = "complete"
	case q.Has("uploadId") && r.Method == http.MethodDelete:
		op = "upload"
	}
	s.mu.Lock()
	s.calls = append(s.calls, r.Method+" "+op)
	if key, ok := strings.CutPrefix(r.URL.Path, "/"+s.Bucket+"/"); ok && (r.Method == http.MethodPut && op == "object" || r.Method == http.MethodDelete && op == "object" || op == "complete") {
		s.writes = append(s.writes, r.Method+" "+key)
	}
	s.mu.Unlock()
}

// Env is the environment that points the AWS chain and salesnav-etl at
// the server.
func (s *S3) Env() map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID": s.AccessKey, "AWS_SECRET_ACCESS_KEY": s.Secret, "AWS_REGION": "us-east-1",
		"SALESNAV_S3_ENDPOINT": s.Endpoint,
		// No shared config or IMDS lookups from the test machine.
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true",
	}
}

// SetEnv sets Env for the test (not for parallel tests).
func (s *S3) SetEnv(t testing.TB) {
	for k, v := range s.Env() {
		t.Setenv(k, v)
	}
}

// minioBinary is MinIO's server when it is installed (SALESNAV_MINIO, bin/minio,
// or on PATH): it checks signatures like S3. CI uses s3rver, which installs in
// seconds where building MinIO takes many minutes.
func minioBinary(root string) string {
	if p := os.Getenv("SALESNAV_MINIO"); p != "" {
		return p
	}
	if p := filepath.Join(root, "bin", "minio"); fileExists(p) {
		return p
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// StartS3 starts MinIO when installed, else s3rver (npm, `make s3rver`;
// missing, the test is skipped on a developer's machine and fails in CI),
// and creates bucket. The server is stopped when the test ends.
func StartS3(t testing.TB, bucket string) *S3 {
	t.Helper()
	chtest.SkipIfShort(t)
	root := repoRoot(t)
	port := freePort(t)
	serverURL := "http://127.0.0.1:" + strconv.Itoa(port)
	s := &S3{Bucket: bucket, Dir: t.TempDir(), log: &bytes.Buffer{}}
	if bin := minioBinary(root); bin != "" {
		s.Kind, s.AccessKey, s.Secret = "minio", "salesnav-test", "salesnav-test-secret"
		s.cmd = exec.Command(bin, "server", s.Dir, "--address", "127.0.0.1:"+strconv.Itoa(port), "--console-address", "127.0.0.1:"+strconv.Itoa(freePort(t)), "--quiet")
		s.cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+s.AccessKey, "MINIO_ROOT_PASSWORD="+s.Secret, "MINIO_BROWSER=off")
	} else {
		script := filepath.Join(root, "tools", "s3rver", "node_modules", "s3rver", "bin", "s3rver.js")
		node, err := exec.LookPath("node")
		if err != nil || !fileExists(script) {
			if os.Getenv("CI") != "" {
				t.Fatalf("no S3-compatible server: s3rver is not installed (run make s3rver) and MinIO is not either")
			}
			t.Skip("no S3-compatible server: run make s3rver")
		}
		// s3rver's one account is S3RVER/S3RVER; it checks V4 signatures.
		s.Kind, s.AccessKey, s.Secret = "s3rver", "S3RVER", "S3RVER"
		// Its list continuation tokens use DES, which Node's OpenSSL 3
		// offers only with the legacy provider.
		s.cmd = exec.Command(node, "--openssl-legacy-provider", script, "-d", s.Dir, "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	}
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", s.Kind, err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		if t.Failed() {
			t.Logf("%s log (last 4 KiB):\n%s", s.Kind, tail(s.log.String(), 4096))
		}
	})
	// The test's endpoint is a recording proxy in front of the server. It
	// keeps the Host header the client signed.
	backend, _ := url.Parse(serverURL)
	rp := httputil.NewSingleHostReverseProxy(backend)
	rp.ErrorLog = log.New(io.Discard, "", 0) // refused while the server starts
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		if !s.conditionalPut(w, r, rp) {
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(proxy.Close)
	s.Endpoint = proxy.URL
	s.client = s.Client(s.AccessKey, s.Secret)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come up: %v\n%s", s.Kind, err, s.log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%s serving %s", s.Kind, s.Endpoint)
	return s
}

// Client is an S3 client of the server with the given credentials.
func (s *S3) Client(key, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint), UsePathStyle: true,
		Credentials:                aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(key, secret, "")),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// Keys lists every object key in the bucket (complete uploads only), sorted.
func (s *S3) Keys(t testing.TB) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("listing %s: %v", s.Bucket, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// Mirror downloads every object under prefix into a new local directory
// (keys relative to prefix), for reading back as a dataset.
func (s *S3) Mirror(t testing.TB, prefix string) string {
	t.Helper()
	dir := t.TempDir()
	for _, k := range s.Keys(t) {
		rel, ok := bytes.CutPrefix([]byte(k), []byte(prefix+"/"))
		if !ok {
			continue
		}
		out, err := s.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(k)})
		if err != nil {
			t.Fatalf("getting %s: %v", k, err)
		}
		var buf bytes.Buffer
		_, err = buf.ReadFrom(out.Body)
		out.Body.Close()
		if err != nil {
			t.Fatalf("getting %s: %v", k, err)
		}
		p := filepath.Join(dir, filepath.FromSlash(string(rel)))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Put writes an object directly.
func (s *S3) Put(t testing.TB, key string, data []byte) {
	t.Helper()
	if _, err := s.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
		t.Fatalf("putting %s: %v", key, err)
	}
}

// String names the server for messages.
func (s *S3) String() string { return fmt.Sprintf("%s at %s", s.Kind, s.Endpoint) }

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
