package auth

import "errors"

// Sentinel errors. Branch on them with errors.Is.
var (
	// ErrNoState: the callback came without the state parameter, so
	// nothing ties it to this sign-in; it is refused.
	ErrNoState = errors.New("the callback has no state parameter: it did not come from this sign-in")
	// ErrStateMismatch: the callback's state is not the one sent with the
	// authorization request (a forged or stale callback); it is refused.
	ErrStateMismatch = errors.New("the callback's state does not match the one sent: it did not come from this sign-in")
	// ErrDeclined: the member declined (or cancelled) the authorization:
	// LinkedIn redirected back with error=user_cancelled_authorize or
	// user_cancelled_login.
	ErrDeclined = errors.New("the member declined the authorization")
	// ErrAuthorization: LinkedIn redirected back with another error.
	ErrAuthorization = errors.New("the authorization failed")
	// ErrNoCode: the callback has the right state but neither a code nor
	// an error.
	ErrNoCode = errors.New("the callback has no authorization code")
	// ErrTimeout: no callback came before the deadline.
	ErrTimeout = errors.New("no callback came in time")
	// ErrNoAccessToken: the token endpoint answered without an access
	// token.
	ErrNoAccessToken = errors.New("the token endpoint answered no access token")
	// ErrObjectName: a Kubernetes object name that Kubernetes refuses.
	ErrObjectName = errors.New("not a Kubernetes object name")
)
