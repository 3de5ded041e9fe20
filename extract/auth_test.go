package extract_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
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
