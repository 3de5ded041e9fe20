package extract_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
)

func TestRefreshTokenFlowRenewsOnExpiry(t *testing.T) {
	fake := fakeapi.New(fakeapi.Config{Token: "static-only-for-others"})
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	auth := extract.AuthConfig{ClientID: fakeapi.DefaultClientID, ClientSecret: fakeapi.DefaultClientSecret,
		RefreshToken: fakeapi.DefaultRefreshToken, TokenURL: srv.URL + "/oauth/v2/accessToken"}
	member, app, err := auth.TokenSources(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := extract.New(extract.Config{BaseURL: srv.URL + "/v2", TokenSource: member, AppTokenSource: app, RetryInitial: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Contracts(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Contracts(ctx); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls()["token"]; n != 1 {
		t.Fatalf("%d token requests for two calls, want 1 (cached until expiry)", n)
	}
	// The token expires early (revoked, clock skew): one 401, one renewal.
	fake.ExpireTokens()
	if _, err := c.Contracts(ctx); err != nil {
		t.Fatalf("call after expiry: %v", err)
	}
	if n := fake.Calls()["token"]; n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
	// Application calls take a client-credentials token.
	if _, err := c.CreateCRMValidationExport(ctx, "urn:li:crmInstance:(SFDC,1)", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls()["token"]; n != 3 {
		t.Errorf("%d token requests, want 3 (one client-credentials grant)", n)
	}
}

func TestBadClientSecret(t *testing.T) {
	fake := fakeapi.New(fakeapi.Config{})
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	auth := extract.AuthConfig{ClientID: fakeapi.DefaultClientID, ClientSecret: "very-wrong-secret",
		RefreshToken: fakeapi.DefaultRefreshToken, TokenURL: srv.URL + "/oauth/v2/accessToken"}
	member, _, _ := auth.TokenSources(nil)
	c, _ := extract.New(extract.Config{BaseURL: srv.URL + "/v2", TokenSource: member})
	_, err := c.Contracts(context.Background())
	if err == nil || !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), "very-wrong-secret") {
		t.Fatalf("error %v: want the token endpoint's code, never the secret", err)
	}
	if fake.Calls()["getContracts"] != 0 {
		t.Error("an API call was made without a token")
	}
}

func TestAuthConfigValidate(t *testing.T) {
	for _, c := range []extract.AuthConfig{{}, {ClientID: "x"}, {RefreshToken: "r"}, {ClientSecret: "s", AccessToken: "t"}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := (extract.AuthConfig{AccessToken: "t"}).Validate(); err != nil {
		t.Error(err)
	}
	// Client credentials alone serve the CRM operations; member calls
	// fail naming what is missing, without a request.
	cc := extract.AuthConfig{ClientID: "c", ClientSecret: "s", TokenURL: "http://127.0.0.1:1/token"}
	if err := cc.Validate(); err != nil {
		t.Errorf("client credentials only refused: %v", err)
	}
	member, app, err := cc.TokenSources(nil)
	if err != nil || app == nil {
		t.Fatalf("client credentials only: %v", err)
	}
	if _, err := member.Token(); !errors.Is(err, extract.ErrNoMemberToken) {
		t.Errorf("member token with client credentials only: %v", err)
	}
	// A static token does not renew: a 401 is final.
	fake := fakeapi.New(fakeapi.Config{})
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	c, _ := extract.New(extract.Config{BaseURL: srv.URL + "/v2", Token: "nope"})
	if _, err := c.Contracts(context.Background()); !errors.Is(err, extract.ErrUnauthorized) || fake.Calls()["getContracts"] != 1 {
		t.Errorf("static token 401: %v after %d calls", err, fake.Calls()["getContracts"])
	}
}

// A token endpoint that answers 307 to another host: Go would POST the
// same body (client secret, refresh token) there. The refresh fails with
// extract.ErrTokenRedirect and the other host receives nothing; a 307 on the same
// host is followed.
func TestTokenEndpointRedirectToAnotherHostRefused(t *testing.T) {
	thief := testkit.NewThief(t)
	fake := fakeapi.New(fakeapi.Config{})
	mux := http.NewServeMux()
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief.URL+"/oauth/v2/accessToken", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/oauth/v2/accessToken", http.StatusPermanentRedirect)
	})
	mux.Handle("/", fake.Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		path string
		ok   bool
	}{{"/away", false}, {"/moved", true}} {
		auth := extract.AuthConfig{ClientID: fakeapi.DefaultClientID, ClientSecret: fakeapi.DefaultClientSecret,
			RefreshToken: fakeapi.DefaultRefreshToken, TokenURL: srv.URL + tc.path}
		member, _, err := auth.TokenSources(nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = member.Token()
		if tc.ok && err != nil {
			t.Errorf("%s: a redirect on the same host: %v", tc.path, err)
		}
		if !tc.ok && (!errors.Is(err, extract.ErrTokenRedirect) || !strings.Contains(err.Error(), "another host")) {
			t.Errorf("%s: %v, want %v naming another host", tc.path, err, extract.ErrTokenRedirect)
		}
	}
	if stolen := thief.Received(); len(stolen) > 0 {
		t.Errorf("the other host received %d token requests: %q", len(stolen), stolen)
	}
}

// A token endpoint whose error description echoes the client secret and
// refresh token it was sent: the error masks both.
func TestTokenErrorEchoMasked(t *testing.T) {
	const cs, rt = "client-Secret-50d", "refresh-Tok-2b8"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"bad `+r.PostForm.Get("client_secret")+` `+r.PostForm.Get("refresh_token")+`"}`)
	}))
	defer srv.Close()
	member, app, err := extract.AuthConfig{ClientID: "cid", ClientSecret: cs, RefreshToken: rt, TokenURL: srv.URL}.TokenSources(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []extract.TokenSource{member, app} {
		_, err := src.Token()
		if err == nil || strings.Contains(err.Error(), cs) || strings.Contains(err.Error(), rt) || !strings.Contains(err.Error(), "invalid_client") {
			t.Errorf("error: %v", err)
		}
	}
}

// A run learns when the refresh token expires from the refresh grant's
// answer (refresh_token_expires_in, counting down from the consent),
// counted from its own clock; an answer without it reports nothing.
func TestRefreshTokenExpiryReported(t *testing.T) {
	fakeNow := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	fake := fakeapi.New(fakeapi.Config{Now: func() time.Time { return fakeNow }, RefreshTokenIssuedAt: fakeNow.AddDate(0, 0, -100)})
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	runNow := time.Date(2026, 3, 10, 12, 0, 5, 0, time.UTC)
	var got []time.Time
	auth := extract.AuthConfig{ClientID: fakeapi.DefaultClientID, ClientSecret: fakeapi.DefaultClientSecret,
		RefreshToken: fakeapi.DefaultRefreshToken, TokenURL: srv.URL + "/oauth/v2/accessToken",
		Now: func() time.Time { return runNow }, RefreshTokenExpiry: func(t time.Time) { got = append(got, t) }}
	member, app, err := auth.TokenSources(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := member.Token(); err != nil {
		t.Fatal(err)
	}
	if want := runNow.Add(265 * 24 * time.Hour); len(got) != 1 || !got[0].Equal(want) {
		t.Errorf("reported %v, want [%v]", got, want)
	}
	// The client-credentials grant has no refresh token to report.
	if _, err := app.Token(); err != nil || len(got) != 1 {
		t.Errorf("client credentials: %v, reported %v", err, got)
	}
	// A refresh answer without refresh_token_expires_in: nothing.
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"a-token","expires_in":3600,"token_type":"Bearer"}`)
	}))
	defer bare.Close()
	auth.TokenURL = bare.URL
	member, _, _ = auth.TokenSources(nil)
	if _, err := member.Token(); err != nil || len(got) != 1 {
		t.Errorf("answer without the refresh token's life: %v, reported %v", err, got)
	}
}

func TestExpiresIn(t *testing.T) {
	for _, tc := range []struct {
		extra map[string]any
		want  time.Duration
		ok    bool
	}{
		{map[string]any{"expires_in": float64(3600)}, time.Hour, true},
		{map[string]any{"expires_in": "5184000"}, 60 * 24 * time.Hour, true},
		{map[string]any{"expires_in": json.Number("60")}, time.Minute, true},
		{map[string]any{}, 0, false},
		{map[string]any{"expires_in": "soon"}, 0, false},
		{map[string]any{"expires_in": float64(-5)}, 0, false},
		{map[string]any{"expires_in": true}, 0, false},
	} {
		d, ok := extract.ExpiresIn((&oauth2.Token{}).WithExtra(tc.extra), "expires_in")
		if d != tc.want || ok != tc.ok {
			t.Errorf("%v: %v %v, want %v %v", tc.extra, d, ok, tc.want, tc.ok)
		}
	}
}
