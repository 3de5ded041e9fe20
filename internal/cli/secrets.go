package cli

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/sethvargo/go-envconfig"

	"github.com/salesnav-etl/salesnav-etl/internal/secret"
)

// providerSecrets are the object storage providers' own credential
// variables (no SALESNAV_ prefix), read by their SDKs' default chains.
var providerSecrets = []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN"}

// secretsOf collects the credentials of the environment: every variable
// Env declares secret, as its declaration says, and the providers'.
func secretsOf(lookup envconfig.Lookuper) *secret.Set {
	set := &secret.Set{}
	for _, v := range varDocs {
		val, ok := lookup.Lookup(envPrefix + v.Env)
		if !ok || val == "" {
			continue
		}
		switch v.Secret {
		case "value":
			set.Add(val)
		case "url":
			set.Add(secret.FromURL(val)...)
		}
	}
	for _, name := range providerSecrets {
		if val, ok := lookup.Lookup(name); ok {
			set.Add(val)
		}
	}
	return set
}

// recoverMasked turns a panic of the command into an error whose text and
// stack have the secrets masked (the runtime would print them as they
// are), for execute to report with exit code 1.
func recoverMasked(set *secret.Set, stderr io.Writer, code *int) {
	p := recover()
	if p == nil {
		return
	}
	fmt.Fprintf(set.Writer(stderr), "salesnav-etl: internal error: %v\n%s", p, debug.Stack())
	*code = ExitFailure
}
