package auth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/auth"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
)

// loginFake serves the fake API with redirect registered, at a fixed time.
func loginFake(t *testing.T, redirect string, now time.Time, f fakeapi.Faults) (*fakeapi.Server, auth.Config) {
	t.Helper()
	fake := fakeapi.New(fakeapi.Config{Now: func() time.Time { return now }, RedirectURLs: []string{redirect}, Faults: f})
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	scopes, _ := auth.ParseScopes(auth.DefaultScopes)
	return fake, auth.Config{ClientID: fakeapi.DefaultClientID, ClientSecret: fakeapi.DefaultClientSecret, RedirectURL: redirect, Scopes: scopes,
		AuthURL: srv.URL + "/oauth/v2/authorization", TokenURL: srv.URL + "/oauth/v2/accessToken"}
}

// browser plays the member's browser: it follows the authorization URL
// through the fake's redirect to the callback, in the background.
func browser(t *testing.T, shown *[]string) func(string) error {
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	return func(u string) error {
		*shown = append(*shown, u)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := insecure.Get(u); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		return nil
	}
}

func TestLogin(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	redirect := freeRedirect(t, "http", "/callback")
	fake, cfg := loginFake(t, redirect.String(), now, fakeapi.Faults{})
	var shown, told []string
	tokens, err := auth.Login(context.Background(), cfg, auth.LoginOptions{Show: browser(t, &shown), Now: func() time.Time { return now },
		Secret: func(v ...string) { told = append(told, v...) }})
	if err != nil {
		t.Fatal(err)
	}
	if tokens.AccessToken == "" || tokens.RefreshToken == "" || !tokens.AccessExpiry.Equal(now.AddDate(0, 0, 60)) ||
		!tokens.RefreshExpiry.Equal(now.AddDate(0, 0, 365)) || !slices.Equal(tokens.Scopes, cfg.Scopes) || !tokens.IssuedAt.Equal(now) {
		t.Errorf("tokens %+v", tokens)
	}
	// The authorization request: the documented parameters, a state from
	// crypto/rand (32 bytes), new each time.
	u, _ := url.Parse(shown[0])
	q := u.Query()
	if q.Get("response_type") != "code" || q.Get("client_id") != fakeapi.DefaultClientID || q.Get("redirect_uri") != redirect.String() ||
		q.Get("scope") != "r_sales_nav_analytics r_sales_nav_display" || len(q.Get("state")) != 43 {
		t.Errorf("authorization URL %s", shown[0])
	}
	if len(told) != 3 || told[1] != tokens.AccessToken || told[2] != tokens.RefreshToken || !strings.HasPrefix(told[0], "fake-code-") {
		t.Errorf("secrets told: %q", told)
	}
	if n := fake.Calls()["token"]; n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
	// Another sign-in sends another state.
	fake.SetFaults(fakeapi.Faults{NoRefreshToken: true})
	tokens, err = auth.Login(context.Background(), cfg, auth.LoginOptions{Show: browser(t, &shown)})
	if err != nil || tokens.RefreshToken != "" || !tokens.RefreshExpiry.IsZero() || tokens.AccessToken == "" {
		t.Fatalf("without a refresh token: %+v %v", tokens, err)
	}
	u2, _ := url.Parse(shown[1])
	if u2.Query().Get("state") == q.Get("state") {
		t.Error("two sign-ins sent the same state")
	}
}

func TestLoginRefused(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	redirect := freeRedirect(t, "http", "/callback")
	_, cfg := loginFake(t, redirect.String(), now, fakeapi.Faults{DeclineAuthorization: true})
	var shown []string
	if _, err := auth.Login(context.Background(), cfg, auth.LoginOptions{Show: browser(t, &shown)}); !errors.Is(err, auth.ErrDeclined) {
		t.Errorf("declined: %v", err)
	}
	// A forged callback (another state) ends the sign-in.
	forge := func(u string) error {
		go http.Get(redirect.String() + "?code=stolen&state=not-yours")
		return nil
	}
	if _, err := auth.Login(context.Background(), cfg, auth.LoginOptions{Show: forge}); !errors.Is(err, auth.ErrStateMismatch) {
		t.Errorf("forged callback: %v", err)
	}
	// Nobody comes back.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := auth.Login(ctx, cfg, auth.LoginOptions{Show: func(string) error { return nil }}); !errors.Is(err, auth.ErrTimeout) {
		t.Errorf("no callback: %v", err)
	}
}

// The token endpoint echoes what it was sent in its error: the secret and
// the code are masked; a redirect to another host is refused, and that
// host receives nothing.
func TestExchangeErrors(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant","error_description":"bad `+r.PostForm.Get("client_secret")+` `+r.PostForm.Get("code")+`"}`)
	}))
	defer echo.Close()
	cfg := auth.Config{ClientID: "cid", ClientSecret: "s3cret-Value", TokenURL: echo.URL, RedirectURL: "http://127.0.0.1:8765/callback"}
	_, err := auth.Exchange(context.Background(), cfg, nil, "c0de-Value", time.Now())
	if err == nil || !strings.Contains(err.Error(), "invalid_grant") || strings.Contains(err.Error(), "s3cret-Value") || strings.Contains(err.Error(), "c0de-Value") {
		t.Errorf("echoing endpoint: %v", err)
	}
	thief := testkit.NewThief(t)
	away := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief.URL, http.StatusTemporaryRedirect)
	}))
	defer away.Close()
	cfg.TokenURL = away.URL
	if _, err := auth.Exchange(context.Background(), cfg, nil, "c0de-Value", time.Now()); err == nil || !strings.Contains(err.Error(), "another host") {
		t.Errorf("redirect to another host: %v", err)
	}
	if len(thief.Received()) > 0 {
		t.Errorf("the other host received %q", thief.Received())
	}
}
