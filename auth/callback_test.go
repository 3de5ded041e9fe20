package auth_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/auth"
)

func TestCheckCallback(t *testing.T) {
	const state = "s7ate"
	for _, tc := range []struct {
		name, query, code string
		err               error
		says              string
	}{
		{"code", "code=c0de&state=s7ate", "c0de", nil, ""},
		{"no state", "code=c0de", "", auth.ErrNoState, ""},
		{"empty state", "code=c0de&state=", "", auth.ErrNoState, ""},
		{"another state", "code=c0de&state=other", "", auth.ErrStateMismatch, ""},
		{"a longer state", "code=c0de&state=s7ate2", "", auth.ErrStateMismatch, ""},
		{"declined", "error=user_cancelled_authorize&error_description=The+user+cancelled&state=s7ate", "", auth.ErrDeclined, `"The user cancelled"`},
		{"cancelled the login, no state", "error=user_cancelled_login", "", auth.ErrDeclined, "user_cancelled_login"},
		{"another error", "error=invalid_scope&state=s7ate", "", auth.ErrAuthorization, "invalid_scope"},
		{"an error with another state", "error=user_cancelled_authorize&state=other", "", auth.ErrStateMismatch, ""},
		{"neither code nor error", "state=s7ate", "", auth.ErrNoCode, ""},
		{"a long description is clipped", "error=x&error_description=" + strings.Repeat("a", 500) + "&state=s7ate", "", auth.ErrAuthorization, strings.Repeat("a", 200) + "…"},
	} {
		q, _ := url.ParseQuery(tc.query)
		code, err := auth.CheckCallback(q, state)
		if code != tc.code || !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) || (tc.says != "" && !strings.Contains(err.Error(), tc.says)) {
			t.Errorf("%s: %q, %v; want %q, %v saying %s", tc.name, code, err, tc.code, tc.err, tc.says)
		}
		if err != nil && strings.Contains(err.Error(), strings.Repeat("a", 201)) {
			t.Errorf("%s: the description is not clipped", tc.name)
		}
	}
}

// freeRedirect returns a loopback redirect URL on a free port.
func freeRedirect(t *testing.T, scheme, path string) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	u, err := auth.ParseRedirectURL(scheme + "://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var insecure = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

func get(t *testing.T, c *http.Client, method, u string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// The callback server serves the redirect URL's path only; the first
// callback decides and gets a page, later ones are told it is over; an
// https redirect URL is served over TLS.
func TestCallbackServer(t *testing.T) {
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			redirect := freeRedirect(t, scheme, "/callback")
			cb, err := auth.ListenCallback(redirect, "st", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cb.Close()
			base := scheme + "://" + redirect.Host
			if status, _ := get(t, insecure, http.MethodGet, base+"/favicon.ico"); status != http.StatusNotFound {
				t.Errorf("another path: %d, want 404", status)
			}
			if status, _ := get(t, insecure, http.MethodGet, base+"/callback/x?state=st&code=c"); status != http.StatusNotFound {
				t.Errorf("a path below: %d, want 404", status)
			}
			if status, _ := get(t, insecure, http.MethodPost, base+"/callback?state=st&code=c"); status != http.StatusMethodNotAllowed {
				t.Errorf("POST: %d, want 405", status)
			}
			if status, page := get(t, insecure, http.MethodGet, base+"/callback?state=st&code=c0de"); status != http.StatusOK || !strings.Contains(page, "Signed in") {
				t.Errorf("callback: %d %s", status, page)
			}
			if status, _ := get(t, insecure, http.MethodGet, base+"/callback?state=st&code=again"); status != http.StatusConflict {
				t.Errorf("second callback: %d, want 409", status)
			}
			if code, err := cb.Wait(context.Background()); code != "c0de" || err != nil {
				t.Errorf("Wait: %q %v", code, err)
			}
		})
	}
}

// A refused callback shows why on the page (escaped) and ends the wait.
func TestCallbackRefused(t *testing.T) {
	redirect := freeRedirect(t, "http", "/cb")
	cb, err := auth.ListenCallback(redirect, "st", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	status, page := get(t, http.DefaultClient, http.MethodGet, redirect.String()+"?error=user_cancelled_authorize&error_description=%3Cscript%3E&state=st")
	if status != http.StatusBadRequest || !strings.Contains(page, "declined") || strings.Contains(page, "<script>") {
		t.Errorf("declined: %d %s", status, page)
	}
	if _, err := cb.Wait(context.Background()); !errors.Is(err, auth.ErrDeclined) {
		t.Errorf("Wait: %v", err)
	}
}

// No callback before the deadline: ErrTimeout; a cancel: its error.
func TestCallbackTimeout(t *testing.T) {
	redirect := freeRedirect(t, "http", "/cb")
	cb, err := auth.ListenCallback(redirect, "st", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := cb.Wait(ctx); !errors.Is(err, auth.ErrTimeout) {
		t.Errorf("deadline: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := cb.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// The port is taken: a clear error.
	if _, err := auth.ListenCallback(redirect, "st", nil); err == nil || !strings.Contains(err.Error(), redirect.Host) {
		t.Errorf("a port in use: %v", err)
	}
}
