package connector

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// stubAPI answers Check's calls as told.
type stubAPI struct {
	contracts      []extract.Contract
	contractsErr   error
	crmErr, lookup error
	calls          []string
}

func (s *stubAPI) Contracts(context.Context) ([]extract.Contract, error) {
	s.calls = append(s.calls, "contracts")
	return s.contracts, s.contractsErr
}

func (s *stubAPI) CRMValidationExport(_ context.Context, inst string, _ int64) (extract.CRMValidationJob, error) {
	s.calls = append(s.calls, "crm "+inst)
	return extract.CRMValidationJob{}, s.crmErr
}

func (s *stubAPI) ProfileAssociations(_ context.Context, keys []extract.AssociationKey) ([]extract.AssociationResult, error) {
	s.calls = append(s.calls, "lookup "+keys[0].Partner+"/"+keys[0].InstanceID)
	return nil, s.lookup
}

func TestCheck(t *testing.T) {
	status := func(code int) error { return &extract.APIError{Op: "op", StatusCode: code} }
	reporting := []extract.Contract{{Contract: "c1", HasReportingAccess: true}}
	crm := []*schema.Stream{schema.CRMValidation, schema.ProfileAssociations}
	for _, tc := range []struct {
		name     string
		streams  []*schema.Stream
		api      stubAPI
		appToken error
		want     []string // problems; none: the check passes
		calls    string
	}{
		{"all well", schema.Defaults(), stubAPI{contracts: reporting}, nil, nil, "contracts"},
		{"bad token", schema.Defaults(), stubAPI{contractsErr: status(401)}, nil, []string{"token: listing contracts", "HTTP 401"}, "contracts"},
		{"no reporting access", schema.Defaults(), stubAPI{contracts: []extract.Contract{{Contract: "c1"}}}, nil,
			[]string{"reporting access: none of the 1 contract(s)"}, "contracts"},
		{"contracts only: no reporting needed", []*schema.Stream{schema.Contracts}, stubAPI{contracts: []extract.Contract{{Contract: "c1"}}}, nil, nil, "contracts"},
		{"CRM: a 404 is access", crm, stubAPI{crmErr: status(404)}, nil, nil, "crm urn:li:crmInstance:(SFDC,00D1)|lookup SFDC/00D1"},
		{"CRM scope refused", crm, stubAPI{crmErr: status(403), lookup: status(403)}, nil,
			[]string{"CRM scope: reading CRM validation exports", "r_sales_nav_validation", "CRM scope: looking up profile associations", "r_sales_nav_profiles", "HTTP 403"},
			"crm urn:li:crmInstance:(SFDC,00D1)|lookup SFDC/00D1"},
		{"CRM: the API unreachable", crm, stubAPI{crmErr: errors.New("dial tcp: connection refused")}, nil, []string{"connection refused"}, "crm urn:li:crmInstance:(SFDC,00D1)|lookup SFDC/00D1"},
		{"client credentials refused", append([]*schema.Stream{schema.Activity}, crm...), stubAPI{contracts: reporting}, errors.New("token endpoint answered HTTP 401: invalid_client"),
			[]string{"CRM scope: fetching an application token (client credentials): token endpoint answered HTTP 401"}, "contracts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := tc.api
			cfg := Config{Streams: tc.streams, CRMInstances: []string{"urn:li:crmInstance:(SFDC,00D1)"}}
			var appToken func() error
			if tc.appToken != nil {
				appToken = func() error { return tc.appToken }
			}
			err := Check(context.Background(), &api, cfg, appToken)
			if len(tc.want) == 0 && err != nil {
				t.Errorf("check failed: %v", err)
			}
			if len(tc.want) > 0 && err == nil {
				t.Fatal("check passed")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q not in %v", w, err)
				}
			}
			if got := strings.Join(api.calls, "|"); got != tc.calls {
				t.Errorf("calls %s, want %s", got, tc.calls)
			}
		})
	}
}
