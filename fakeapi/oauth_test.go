package fakeapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
)

// oauthFake serves a fake whose clock the test moves.
type oauthFake struct {
	*fakeapi.Server
	url string
	mu  sync.Mutex
	now time.Time
}

const testRedirect = "http://127.0.0.1:9/cb?x=1"

func newOAuthFake(t *testing.T, f fakeapi.Faults) *oauthFake {
	o := &oauthFake{now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	o.Server = fakeapi.New(fakeapi.Config{Now: o.clock, RedirectURLs: []string{fakeapi.DefaultRedirectURL, testRedirect}, Faults: f})
	srv := httptest.NewServer(o.Handler())
	t.Cleanup(srv.Close)
	o.url = srv.URL
	return o
}

func (o *oauthFake) clock() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.now
}

func (o *oauthFake) advance(d time.Duration) {
	o.mu.Lock()
	o.now = o.now.Add(d)
	o.mu.Unlock()
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize asks the authorization endpoint and returns its status and
// the query of the URL it redirects to.
func (o *oauthFake) authorize(t *testing.T, q url.Values) (int, *url.URL) {
	t.Helper()
	resp, err := noRedirects.Get(o.url + "/oauth/v2/authorization?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return resp.StatusCode, loc
}

func authQuery(mutate ...func(url.Values)) url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {fakeapi.DefaultClientID}, "redirect_uri": {testRedirect},
		"state": {"st4te"}, "scope": {"r_sales_nav_analytics r_sales_nav_display"}}
	for _, m := range mutate {
		m(q)
	}
	return q
}

// post sends a form to an OAuth endpoint and decodes the JSON answer.
func (o *oauthFake) post(t *testing.T, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	if !form.Has("client_id") {
		form.Set("client_id", fakeapi.DefaultClientID)
		form.Set("client_secret", fakeapi.DefaultClientSecret)
	}
	resp, err := http.PostForm(o.url+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func (o *oauthFake) code(t *testing.T) string {
	t.Helper()
	status, loc := o.authorize(t, authQuery())
	if status != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("authorization: %d %v", status, loc)
	}
	return loc.Query().Get("code")
}

func (o *oauthFake) exchange(t *testing.T, code string) (int, map[string]any) {
	return o.post(t, "/oauth/v2/accessToken", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}})
}

func TestAuthorizationEndpoint(t *testing.T) {
	o := newOAuthFake(t, fakeapi.Faults{})
	for _, tc := range []struct {
		name        string
		mutate      func(url.Values)
		status      int
		code, error string
	}{
		{"consent", func(url.Values) {}, http.StatusFound, "yes", ""},
		{"unknown client", func(q url.Values) { q.Set("client_id", "other") }, http.StatusBadRequest, "", ""},
		{"unregistered redirect", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:9/other") }, http.StatusBadRequest, "", ""},
		{"no redirect", func(q url.Values) { q.Del("redirect_uri") }, http.StatusBadRequest, "", ""},
		{"implicit grant", func(q url.Values) { q.Set("response_type", "token") }, http.StatusFound, "", "unsupported_response_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, loc := o.authorize(t, authQuery(tc.mutate))
			if status != tc.status {
				t.Fatalf("status %d, want %d", status, tc.status)
			}
			if status != http.StatusFound {
				return
			}
			q := loc.Query()
			if loc.Path != "/cb" || q.Get("x") != "1" || q.Get("state") != "st4te" {
				t.Errorf("redirected to %v: want the registered URL, its query kept, with the state", loc)
			}
			if (q.Get("code") != "") != (tc.code != "") || q.Get("error") != tc.error {
				t.Errorf("redirected with code %q, error %q", q.Get("code"), q.Get("error"))
			}
		})
	}
	o.SetFaults(fakeapi.Faults{DeclineAuthorization: true})
	_, loc := o.authorize(t, authQuery())
	if q := loc.Query(); q.Get("error") != "user_cancelled_authorize" || q.Get("code") != "" || q.Get("state") != "st4te" {
		t.Errorf("declined: redirected to %v", loc)
	}
}

func TestAuthorizationCodeGrant(t *testing.T) {
	o := newOAuthFake(t, fakeapi.Faults{})
	code := o.code(t)
	status, tok := o.exchange(t, code)
	if status != http.StatusOK || tok["access_token"] == nil || tok["refresh_token"] == nil ||
		tok["expires_in"] != float64(60*86400) || tok["refresh_token_expires_in"] != float64(365*86400) ||
		tok["scope"] != "r_sales_nav_analytics,r_sales_nav_display" {
		t.Fatalf("exchange: %d %v", status, tok)
	}
	// The access token opens the API.
	req, _ := http.NewRequest(http.MethodGet, o.url+"/v2/salesContracts?q=contractsByMember", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	req.Header.Set("X-Restli-Protocol-Version", "2.0.0")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("API call with the issued token: %v %v", resp, err)
	}
	// A code is used once.
	if status, out := o.exchange(t, code); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Errorf("second exchange: %d %v", status, out)
	}
	// The redirect URL must be the authorization request's.
	status, out := o.post(t, "/oauth/v2/accessToken", url.Values{"grant_type": {"authorization_code"}, "code": {o.code(t)}, "redirect_uri": {fakeapi.DefaultRedirectURL}})
	if status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Errorf("another redirect_uri: %d %v", status, out)
	}
	// A code lives minutes.
	code = o.code(t)
	o.advance(11 * time.Minute)
	if status, out := o.exchange(t, code); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Errorf("code after 11 minutes: %d %v", status, out)
	}
	// The client must authenticate.
	status, out = o.post(t, "/oauth/v2/accessToken", url.Values{"grant_type": {"authorization_code"}, "code": {o.code(t)},
		"redirect_uri": {testRedirect}, "client_id": {fakeapi.DefaultClientID}, "client_secret": {"wrong"}})
	if status != http.StatusUnauthorized || out["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", status, out)
	}
	// An app that is not an approved partner gets no refresh token.
	o.SetFaults(fakeapi.Faults{NoRefreshToken: true})
	if status, tok := o.exchange(t, o.code(t)); status != http.StatusOK || tok["access_token"] == nil || tok["refresh_token"] != nil || tok["refresh_token_expires_in"] != nil {
		t.Errorf("no refresh token: %d %v", status, tok)
	}
}

// The refresh token lives 365 days from the consent: each refresh says
// what is left, and gives the same refresh token.
func TestRefreshTokenCountsDown(t *testing.T) {
	o := newOAuthFake(t, fakeapi.Faults{})
	_, tok := o.exchange(t, o.code(t))
	refresh := tok["refresh_token"].(string)
	o.advance(100 * 24 * time.Hour)
	status, out := o.post(t, "/oauth/v2/accessToken", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	if status != http.StatusOK || out["refresh_token"] != refresh || out["refresh_token_expires_in"] != float64(265*86400) || out["expires_in"] != float64(60*86400) {
		t.Fatalf("refresh after 100 days: %d %v", status, out)
	}
	o.advance(265 * 24 * time.Hour)
	if status, out := o.post(t, "/oauth/v2/accessToken", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Errorf("refresh after 365 days: %d %v", status, out)
	}
	// The configured refresh token counts from RefreshTokenIssuedAt.
	now := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(fakeapi.New(fakeapi.Config{Now: func() time.Time { return now }, RefreshTokenIssuedAt: now.AddDate(0, 0, -340)}).Handler())
	defer srv.Close()
	o2 := &oauthFake{url: srv.URL}
	_, out = o2.post(t, "/oauth/v2/accessToken", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {fakeapi.DefaultRefreshToken}})
	if out["refresh_token_expires_in"] != float64(25*86400) {
		t.Errorf("configured refresh token consented 340 days ago: %v", out)
	}
}

func TestIntrospection(t *testing.T) {
	o := newOAuthFake(t, fakeapi.Faults{})
	_, tok := o.exchange(t, o.code(t))
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)
	introspect := func(token string) map[string]any {
		t.Helper()
		status, out := o.post(t, "/oauth/v2/introspectToken", url.Values{"token": {token}})
		if status != http.StatusOK {
			t.Fatalf("introspection: %d %v", status, out)
		}
		return out
	}
	created := float64(o.clock().Unix())
	out := introspect(access)
	if out["active"] != true || out["status"] != "active" || out["auth_type"] != "3L" || out["created_at"] != created ||
		out["expires_at"] != created+60*86400 || out["scope"] != "r_sales_nav_analytics,r_sales_nav_display" {
		t.Errorf("access token: %v", out)
	}
	if out := introspect(refresh); out["active"] != true || out["expires_at"] != created+365*86400 {
		t.Errorf("refresh token: %v", out)
	}
	if out := introspect("never-issued"); out["active"] != false || len(out) != 1 {
		t.Errorf("unknown token: %v", out)
	}
	o.advance(61 * 24 * time.Hour)
	if out := introspect(access); out["active"] != false || out["status"] != "expired" {
		t.Errorf("access token after 61 days: %v", out)
	}
	if out := introspect(refresh); out["active"] != true {
		t.Errorf("refresh token after 61 days: %v", out)
	}
	// Revoked: introspection says so, the token endpoint and the API refuse.
	_, tok = o.post(t, "/oauth/v2/accessToken", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	access = tok["access_token"].(string)
	o.SetFaults(fakeapi.Faults{RevokedTokens: true})
	if out := introspect(refresh); out["active"] != false || out["status"] != "revoked" {
		t.Errorf("revoked refresh token: %v", out)
	}
	if status, out := o.post(t, "/oauth/v2/accessToken", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Errorf("refresh with a revoked token: %d %v", status, out)
	}
	req, _ := http.NewRequest(http.MethodGet, o.url+"/v2/salesContracts?q=contractsByMember", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("X-Restli-Protocol-Version", "2.0.0")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API call with a revoked token: %v %v", resp, err)
	}
	status, out := o.post(t, "/oauth/v2/introspectToken", url.Values{"token": {refresh}, "client_id": {fakeapi.DefaultClientID}, "client_secret": {"nope"}})
	if status != http.StatusUnauthorized || !strings.Contains(out["error"].(string), "invalid_client") {
		t.Errorf("introspection with a wrong secret: %d %v", status, out)
	}
}
