package auth

import "time"

// Kind is a kind of token.
type Kind string

// The member's tokens.
const (
	AccessToken  Kind = "access token"
	RefreshToken Kind = "refresh token"
)

// Assessment is what a token's introspection means now.
type Assessment struct {
	// Valid: active, with no status against it, and not past its expiry.
	Valid bool
	// Status is active when valid; otherwise LinkedIn's status (expired,
	// revoked…), "expired" when the expiry has passed, or "inactive".
	Status string
	// Expires is zero when unknown: a refresh token's is its
	// introspection's expires_at, or its created_at (the consent) plus
	// RefreshTokenLife.
	Expires time.Time
	// DaysLeft are the whole days until Expires (0 when it is unknown or
	// past).
	DaysLeft int
	// Warn: the token bounds the consent (the refresh token, or the access
	// token when there is none) and expires within WarnWithin.
	Warn bool
}

// Assess decides what in says of a token of kind at now; boundsConsent
// says the member must consent again when this token expires.
func Assess(kind Kind, in *Introspection, now time.Time, boundsConsent bool) Assessment {
	a := Assessment{Expires: in.ExpiresAt}
	if a.Expires.IsZero() && kind == RefreshToken && !in.CreatedAt.IsZero() {
		a.Expires = in.CreatedAt.Add(RefreshTokenLife)
	}
	expired := !a.Expires.IsZero() && !now.Before(a.Expires)
	a.Valid = in.Active && !expired && (in.Status == "" || in.Status == "active")
	switch {
	case a.Valid:
		a.Status = "active"
	case in.Status != "" && in.Status != "active":
		a.Status = in.Status
	case expired:
		a.Status = "expired"
	default:
		a.Status = "inactive"
	}
	if left := a.Expires.Sub(now); !a.Expires.IsZero() && left > 0 {
		a.DaysLeft = int(left / (24 * time.Hour))
		a.Warn = a.Valid && boundsConsent && left <= WarnWithin
	}
	return a
}

// Failing lists the tokens whose assessment fails a status check, in
// the order access token, refresh token: each one configured and not
// valid, except an access token when a valid refresh token is
// configured, which supplies access tokens in its stead (a configured
// access token is then not used).
func Failing(assessed map[Kind]Assessment) []Kind {
	var out []Kind
	refresh, hasRefresh := assessed[RefreshToken]
	if a, ok := assessed[AccessToken]; ok && !a.Valid && !(hasRefresh && refresh.Valid) {
		out = append(out, AccessToken)
	}
	if hasRefresh && !refresh.Valid {
		out = append(out, RefreshToken)
	}
	return out
}
