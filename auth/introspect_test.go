package auth_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/auth"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
)

func TestParseIntrospection(t *testing.T) {
	for _, tc := range []struct {
		body string
		want auth.Introspection
		bad  bool
	}{
		{`{"active":true,"status":"active","created_at":1773144000,"expires_at":1778328000,"scope":"r_sales_nav_analytics,r_sales_nav_display","auth_type":"3L","client_id":"c"}`,
			auth.Introspection{Active: true, Status: "active", CreatedAt: time.Unix(1773144000, 0).UTC(), ExpiresAt: time.Unix(1778328000, 0).UTC(),
				Scopes: []string{"r_sales_nav_analytics", "r_sales_nav_display"}, AuthType: "3L"}, false},
		{`{"active":"true","expires_at":"1778328000","scope":"a b"}`,
			auth.Introspection{Active: true, ExpiresAt: time.Unix(1778328000, 0).UTC(), Scopes: []string{"a", "b"}}, false},
		{`{"active":false}`, auth.Introspection{}, false},
		{`{"active":true,"expires_at":"soon"}`, auth.Introspection{}, true},
		{`{"active":true,"expires_at":1.5}`, auth.Introspection{}, true},
		{`not json`, auth.Introspection{}, true},
	} {
		got, err := auth.ParseIntrospection([]byte(tc.body))
		if (err != nil) != tc.bad {
			t.Errorf("%s: %v", tc.body, err)
			continue
		}
		if err == nil && (got.Active != tc.want.Active || got.Status != tc.want.Status || !got.CreatedAt.Equal(tc.want.CreatedAt) ||
			!got.ExpiresAt.Equal(tc.want.ExpiresAt) || strings.Join(got.Scopes, " ") != strings.Join(tc.want.Scopes, " ") || got.AuthType != tc.want.AuthType) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.body, got, tc.want)
		}
	}
}

func TestIntrospect(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	fake := fakeapi.New(fakeapi.Config{Now: func() time.Time { return now }, RefreshTokenIssuedAt: now.AddDate(0, 0, -10)})
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	endpoint, _ := auth.IntrospectURL(srv.URL + "/oauth/v2/accessToken")
	in, err := auth.Introspect(context.Background(), nil, endpoint, fakeapi.DefaultClientID, fakeapi.DefaultClientSecret, fakeapi.DefaultRefreshToken)
	if err != nil || !in.Active || !in.ExpiresAt.Equal(now.AddDate(0, 0, 355)) || in.AuthType != "3L" {
		t.Errorf("refresh token: %+v %v", in, err)
	}
	if in, err := auth.Introspect(context.Background(), nil, endpoint, fakeapi.DefaultClientID, fakeapi.DefaultClientSecret, "never-issued"); err != nil || in.Active {
		t.Errorf("unknown token: %+v %v", in, err)
	}
	_, err = auth.Introspect(context.Background(), nil, endpoint, fakeapi.DefaultClientID, "wrong-Secret", fakeapi.DefaultRefreshToken)
	if err == nil || !strings.Contains(err.Error(), "HTTP 401: invalid_client") {
		t.Errorf("wrong secret: %v", err)
	}
	// An endpoint that echoes the secret and the token in its error.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_request","error_description":"`+r.PostForm.Get("client_secret")+" "+r.PostForm.Get("token")+`"}`)
	}))
	defer echo.Close()
	_, err = auth.Introspect(context.Background(), nil, echo.URL, "cid", "s3cret-Value", "t0ken-Value")
	if err == nil || !strings.Contains(err.Error(), "invalid_request") || strings.Contains(err.Error(), "s3cret-Value") || strings.Contains(err.Error(), "t0ken-Value") {
		t.Errorf("echoing endpoint: %v", err)
	}
	// A redirect to another host: refused, and nothing sent there.
	thief := testkit.NewThief(t)
	away := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief.URL, http.StatusTemporaryRedirect)
	}))
	defer away.Close()
	if _, err := auth.Introspect(context.Background(), nil, away.URL, "cid", "s3cret-Value", "t0ken-Value"); err == nil || !strings.Contains(err.Error(), "another host") {
		t.Errorf("redirect: %v", err)
	}
	if len(thief.Received()) > 0 {
		t.Errorf("the other host received %q", thief.Received())
	}
}
