package auth_test

import (
	"slices"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/auth"
)

func TestAssess(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	consent := now.Add(-100 * day)
	for _, tc := range []struct {
		name   string
		kind   auth.Kind
		in     auth.Introspection
		bounds bool
		want   auth.Assessment
	}{
		{"active refresh", auth.RefreshToken, auth.Introspection{Active: true, Status: "active", CreatedAt: consent, ExpiresAt: consent.Add(365 * day)}, true,
			auth.Assessment{Valid: true, Status: "active", Expires: consent.Add(365 * day), DaysLeft: 265}},
		{"refresh, expiry from the consent", auth.RefreshToken, auth.Introspection{Active: true, CreatedAt: consent}, true,
			auth.Assessment{Valid: true, Status: "active", Expires: consent.Add(365 * day), DaysLeft: 265}},
		{"access, no expiry said", auth.AccessToken, auth.Introspection{Active: true, CreatedAt: consent}, true,
			auth.Assessment{Valid: true, Status: "active"}},
		{"30 days out: warn", auth.RefreshToken, auth.Introspection{Active: true, ExpiresAt: now.Add(30 * day)}, true,
			auth.Assessment{Valid: true, Status: "active", Expires: now.Add(30 * day), DaysLeft: 30, Warn: true}},
		{"31 days out: no warning", auth.RefreshToken, auth.Introspection{Active: true, ExpiresAt: now.Add(31 * day)}, true,
			auth.Assessment{Valid: true, Status: "active", Expires: now.Add(31 * day), DaysLeft: 31}},
		{"close, but not the consent's bound", auth.AccessToken, auth.Introspection{Active: true, ExpiresAt: now.Add(3 * day)}, false,
			auth.Assessment{Valid: true, Status: "active", Expires: now.Add(3 * day), DaysLeft: 3}},
		{"a day and a half: one whole day", auth.AccessToken, auth.Introspection{Active: true, ExpiresAt: now.Add(36 * time.Hour)}, true,
			auth.Assessment{Valid: true, Status: "active", Expires: now.Add(36 * time.Hour), DaysLeft: 1, Warn: true}},
		{"expired by status", auth.AccessToken, auth.Introspection{Active: false, Status: "expired", ExpiresAt: now.Add(-day)}, true,
			auth.Assessment{Status: "expired", Expires: now.Add(-day)}},
		{"past expiry, still said active", auth.AccessToken, auth.Introspection{Active: true, Status: "active", ExpiresAt: now}, true,
			auth.Assessment{Status: "expired", Expires: now}},
		{"revoked", auth.RefreshToken, auth.Introspection{Active: false, Status: "revoked", ExpiresAt: now.Add(day)}, true,
			auth.Assessment{Status: "revoked", Expires: now.Add(day), DaysLeft: 1}},
		{"active flag with another status", auth.AccessToken, auth.Introspection{Active: true, Status: "revoked"}, true,
			auth.Assessment{Status: "revoked"}},
		{"unknown token", auth.AccessToken, auth.Introspection{}, true, auth.Assessment{Status: "inactive"}},
	} {
		if got := auth.Assess(tc.kind, &tc.in, now, tc.bounds); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

func TestFailing(t *testing.T) {
	ok, bad := auth.Assessment{Valid: true}, auth.Assessment{Status: "expired"}
	for _, tc := range []struct {
		name     string
		assessed map[auth.Kind]auth.Assessment
		want     []auth.Kind
	}{
		{"none configured", map[auth.Kind]auth.Assessment{}, nil},
		{"both valid", map[auth.Kind]auth.Assessment{auth.AccessToken: ok, auth.RefreshToken: ok}, nil},
		{"access alone, invalid", map[auth.Kind]auth.Assessment{auth.AccessToken: bad}, []auth.Kind{auth.AccessToken}},
		{"access expired, refresh valid: not used", map[auth.Kind]auth.Assessment{auth.AccessToken: bad, auth.RefreshToken: ok}, nil},
		{"refresh invalid", map[auth.Kind]auth.Assessment{auth.AccessToken: ok, auth.RefreshToken: bad}, []auth.Kind{auth.RefreshToken}},
		{"both invalid", map[auth.Kind]auth.Assessment{auth.AccessToken: bad, auth.RefreshToken: bad}, []auth.Kind{auth.AccessToken, auth.RefreshToken}},
	} {
		if got := auth.Failing(tc.assessed); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
