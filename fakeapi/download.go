package fakeapi

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

func (s *Server) sign(id int64, file int, exp int64) string {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "%d/%d/%d", id, file, exp)
	return hex.EncodeToString(m.Sum(nil))
}

// signedURL is the download URL of a job's file: on the fake's own host,
// self-authorising through an expiring signature, like LinkedIn's.
func (s *Server) signedURL(r *http.Request, id int64, file int, exp int64) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	q := url.Values{"expires": {strconv.FormatInt(exp, 10)}, "sig": {s.sign(id, file, exp)}}
	return fmt.Sprintf("%s://%s/downloads/%d/%d?%s", scheme, r.Host, id, file, q.Encode())
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	id, err1 := strconv.ParseInt(r.PathValue("id"), 10, 64)
	file, err2 := strconv.Atoi(r.PathValue("file"))
	exp, err3 := strconv.ParseInt(r.URL.Query().Get("expires"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		writeError(w, http.StatusBadRequest, "malformed download URL")
		return
	}
	if !hmac.Equal([]byte(r.URL.Query().Get("sig")), []byte(s.sign(id, file, exp))) {
		writeError(w, http.StatusForbidden, "bad signature")
		return
	}
	if s.cfg.Now().UnixMilli() > exp {
		writeError(w, http.StatusForbidden, "download URL expired")
		return
	}
	s.mu.Lock()
	j, ok := s.jobs[id]
	var since time.Duration
	if ok && !j.completed.IsZero() {
		since = time.Since(j.completed)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "no such export")
		return
	}
	s.log.Info("download started", "job", id, "file", file, "after_completed_us", since.Microseconds())
	fault := s.chaosDownload()
	if fault == dlExpired {
		writeError(w, http.StatusForbidden, "download URL expired")
		return
	}
	if s.takeDrop() {
		fault = dlDrop
	}
	if s.takeStall() {
		s.serveStalled(w, r, j, file)
		return
	}
	if s.cfg.CacheDir != "" && !s.cfg.Gzip && !j.crm && fault == dlNone && !s.Faults().contentFaults() {
		if err := s.serveCached(w, r, j, file); err != nil {
			s.log.Warn("fake api cached download failed", "job", id, "error", err)
		}
		return
	}
	contentType := "text/csv"
	if s.cfg.Gzip {
		contentType = "application/octet-stream"
	}
	if fault != dlNone {
		s.serveFault(w, j, file, fault, contentType)
		return
	}
	w.Header().Set("Content-Type", contentType)
	var out io.Writer = w
	if s.cfg.Gzip {
		zw := gzip.NewWriter(w)
		defer zw.Close()
		out = zw
	}
	bw := bufio.NewWriterSize(out, 256<<10)
	defer bw.Flush()
	if err := s.writeCSV(bw, j, file); err != nil {
		s.log.Warn("fake api download aborted", "job", id, "error", err)
	}
}

// serveFault serves a job's file broken as fault says: the whole file is
// made in memory first (compressed when the fake serves gzip), then part
// of it is sent (half without chaos; a drawn part with it).
func (s *Server) serveFault(w http.ResponseWriter, j *job, file int, fault downloadFault, contentType string) {
	var buf bytes.Buffer
	var out io.Writer = &buf
	var zw *gzip.Writer
	if s.cfg.Gzip {
		zw = gzip.NewWriter(&buf)
		out = zw
	}
	bw := bufio.NewWriter(out)
	_ = s.writeCSV(bw, j, file)
	bw.Flush()
	if zw != nil {
		zw.Close()
	}
	cut := s.chaosCut(buf.Len())
	if fault == dlDrop {
		// Chunked, cut off: the connection closes mid-body.
		w.Header().Set("Content-Type", contentType)
		w.Write(buf.Bytes()[:cut])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		s.count("dropped")
		panic(http.ErrAbortHandler)
	}
	serveBroken(w, fault, buf.Bytes(), cut, contentType)
}

// stallCap is the longest a stalled download waits for its client to give
// up; after it, the fake drops the connection and counts "stallOutlasted".
const stallCap = 30 * time.Second

// serveStalled sends half of a file, flushed, then nothing until the
// client goes away (or stallCap passes).
func (s *Server) serveStalled(w http.ResponseWriter, r *http.Request, j *job, file int) {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	_ = s.writeCSV(bw, j, file)
	bw.Flush()
	w.Header().Set("Content-Type", "text/csv")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes()[:buf.Len()/2])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	s.count("stalled")
	select {
	case <-r.Context().Done():
	case <-time.After(stallCap):
		s.count("stallOutlasted")
		panic(http.ErrAbortHandler)
	}
}

// serveCached serves a job's file from CacheDir, generating it there first
// when it is not yet: the same export (action, contract, range) is one file.
func (s *Server) serveCached(w http.ResponseWriter, r *http.Request, j *job, file int) error {
	// Everything the file's bytes depend on is in its name: a cache kept
	// across fakes of another seed or size is never served stale.
	name := filepath.Join(s.cfg.CacheDir, fmt.Sprintf("%s_%x_%d_%d_%d_seed%d_rows%d.csv", j.action, contractKey(j.contract), j.startMs, j.endMs, file,
		s.cfg.Seed, s.cfg.RowsPerDay))
	s.cacheMu.Lock()
	if _, err := os.Stat(name); err != nil {
		tmp, err := os.CreateTemp(s.cfg.CacheDir, ".gen-*")
		if err == nil {
			bw := bufio.NewWriterSize(tmp, 1<<20)
			err = s.writeCSV(bw, j, file)
			if err == nil {
				err = bw.Flush()
			}
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Rename(tmp.Name(), name)
			}
			if err != nil {
				os.Remove(tmp.Name())
			}
		}
		if err != nil {
			s.cacheMu.Unlock()
			writeError(w, http.StatusInternalServerError, "generating the export: "+err.Error())
			return err
		}
	}
	s.cacheMu.Unlock()
	f, err := os.Open(name)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/csv")
	http.ServeContent(w, r, "", time.Time{}, f)
	return nil
}

// writeCSV streams a job's file: header row, then rows, CRLF-free, quoted
// where needed.
func (s *Server) writeCSV(w *bufio.Writer, j *job, file int) error {
	if !j.crm {
		f := s.Faults()
		if !f.contentFaults() {
			return s.exports[j.action].WriteCSV(w, s.data, j.contract, j.startMs, j.endMs)
		}
		var buf bytes.Buffer
		bw := bufio.NewWriter(&buf)
		if err := s.exports[j.action].WriteCSV(bw, s.data, j.contract, j.startMs, j.endMs); err != nil {
			return err
		}
		bw.Flush()
		i := slices.IndexFunc(schema.All(), func(st *schema.Stream) bool { return st.Action == j.action })
		if i < 0 {
			_, err := w.Write(buf.Bytes())
			return err
		}
		out, err := f.rewriteCSV(buf.Bytes(), schema.All()[i])
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	}
	cw := csv.NewWriter(w)
	_ = cw.Write(schema.CRMValidation.ColumnNames())
	for i, rec := range s.data.CRMRecords(j.contract, j.startMs, j.endMs) {
		if i%s.cfg.CRMFiles != file {
			continue
		}
		_ = cw.Write([]string{rec.RecordID, rec.RecordType, rec.FirstName, rec.LastName, rec.CRMCompany, rec.LinkedInCompany,
			string(appendExportTime(nil, rec.DetectedAt))})
	}
	cw.Flush()
	return cw.Error()
}
