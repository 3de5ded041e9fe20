package connector

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// CheckAPI is what Check asks of the API.
type CheckAPI interface {
	Contracts(ctx context.Context) ([]extract.Contract, error)
	CRMValidationExport(ctx context.Context, crmInstance string, id int64) (extract.CRMValidationJob, error)
	ProfileAssociations(ctx context.Context, keys []extract.AssociationKey) ([]extract.AssociationResult, error)
}

// probeJob is the job id Check polls to learn whether the application may
// read CRM validation exports: any answer but 401 or 403 (a 404 for a job
// it does not know) says it may.
const probeJob = 1

// Check reaches the API as a sync of cfg.Streams would, and returns nil
// when everything answered, or every problem, each naming what failed:
//
//   - token: the member token (refreshed first with OAuth) lists the
//     contracts (streams other than the CRM ones);
//   - reporting access: one contract at least has it (analytics exports);
//   - CRM scope: the application token (client credentials with OAuth,
//     appToken; the member token otherwise) may read CRM validation
//     exports (r_sales_nav_validation, polled for a job it does not have)
//     and look up profiles (r_sales_nav_profiles, for one key).
//
// appToken fetches the application token; nil when the member's serves.
func Check(ctx context.Context, api CheckAPI, cfg Config, appToken func() error) error {
	var problems []error
	member := slices.ContainsFunc(cfg.Streams, func(st *schema.Stream) bool { return !st.Extract.AppToken() })
	analytics := slices.ContainsFunc(cfg.Streams, func(st *schema.Stream) bool { return st.Extract == schema.AnalyticsExport })
	if member {
		contracts, err := api.Contracts(ctx)
		switch {
		case err != nil:
			problems = append(problems, fmt.Errorf("token: listing contracts with the member token: %s", explain(err)))
		case analytics:
			reporting := 0
			for _, c := range contracts {
				if c.HasReportingAccess {
					reporting++
				}
			}
			if reporting == 0 {
				problems = append(problems, fmt.Errorf("reporting access: none of the %d contract(s) the token's member can see has reporting access (hasReportingAccess), so no analytics export can be made", len(contracts)))
			}
		}
	}
	crm := slices.Contains(cfg.Streams, schema.CRMValidation)
	assoc := slices.Contains(cfg.Streams, schema.ProfileAssociations)
	if !crm && !assoc {
		return errors.Join(problems...)
	}
	if appToken != nil {
		if err := appToken(); err != nil {
			return errors.Join(append(problems, fmt.Errorf("CRM scope: fetching an application token (client credentials): %s", explain(err)))...)
		}
	}
	if crm && len(cfg.CRMInstances) > 0 {
		_, err := api.CRMValidationExport(ctx, cfg.CRMInstances[0], probeJob)
		if err := refused(err); err != nil {
			problems = append(problems, fmt.Errorf("CRM scope: reading CRM validation exports of %s (scope r_sales_nav_validation): %w", cfg.CRMInstances[0], err))
		}
	}
	if assoc {
		_, err := api.ProfileAssociations(ctx, []extract.AssociationKey{probeKey(cfg)})
		if err := refused(err); err != nil {
			problems = append(problems, fmt.Errorf("CRM scope: looking up profile associations (scope r_sales_nav_profiles): %w", err))
		}
	}
	return errors.Join(problems...)
}

// refused is err unless the API answered it with a status other than 401
// or 403: an answer, even a 404, means the token may call.
func refused(err error) error {
	var apiErr *extract.APIError
	if err == nil || (errors.As(err, &apiErr) && !errors.Is(err, extract.ErrUnauthorized) && !errors.Is(err, extract.ErrForbidden)) {
		return nil
	}
	return errors.New(explain(err))
}

// explain words an API error for someone fixing the configuration.
func explain(err error) string {
	switch {
	case errors.Is(err, extract.ErrUnauthorized):
		return "the API refused the token (HTTP 401: wrong, expired or revoked): " + err.Error()
	case errors.Is(err, extract.ErrForbidden):
		return "the API refused access (HTTP 403: the token lacks the scope, or the application the product): " + err.Error()
	}
	return err.Error()
}

// probeKey is a key to look up: the first configured one, or one of the
// first CRM instance (its answer does not matter).
func probeKey(cfg Config) extract.AssociationKey {
	if len(cfg.AssociationKeys) > 0 {
		return cfg.AssociationKeys[0]
	}
	k := extract.AssociationKey{InstanceID: "salesnav-etl-check", Partner: "SFDC", RecordID: "salesnav-etl-check"}
	for _, urn := range cfg.CRMInstances {
		if partner, id, err := pipeline.ParseCRMInstance(urn); err == nil {
			k.Partner, k.InstanceID = partner, id
			break
		}
	}
	return k
}
