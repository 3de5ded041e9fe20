package extract

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"

	"github.com/salesnav-etl/salesnav-etl/extract/restli"
)

// ProfileAssociation looks up one CRM record. A record with no confident
// match answers ErrNotFound.
func (c *Client) ProfileAssociation(ctx context.Context, key AssociationKey) (ProfileAssociation, error) {
	var pa ProfileAssociation
	path := "/salesNavigatorProfileAssociations/" + restli.PathEscapeKey(key.String())
	if _, _, err := c.callApp(ctx, "getProfileAssociation", http.MethodGet, path, "", nil, &pa); err != nil {
		return ProfileAssociation{}, err
	}
	return pa, nil
}

// ProfileAssociations looks up many CRM records in one call
// (GET /salesNavigatorProfileAssociations?ids=List(...)). It returns one
// result per key, in the order given; a key without a match has Status 404
// (as the answer's statuses, or an error of its own, say) and no
// Association, which is not an error. A key the answer says nothing about
// (no result, no status, no error) has Status 0 and an Error: it is not
// taken for a key without a match.
func (c *Client) ProfileAssociations(ctx context.Context, keys []AssociationKey) ([]AssociationResult, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var out struct {
		Statuses map[string]int                `json:"statuses"`
		Results  map[string]ProfileAssociation `json:"results"`
		Errors   map[string]json.RawMessage    `json:"errors"`
	}
	q := "ids=" + EncodeAssociationKeys(keys)
	if _, _, err := c.callApp(ctx, "batchGetProfileAssociations", http.MethodGet, "/salesNavigatorProfileAssociations", q, nil, &out); err != nil {
		return nil, err
	}
	// Index the answer by parsed key, accepting both key forms.
	byKey := func(m map[string]bool) map[AssociationKey]string {
		idx := make(map[AssociationKey]string, len(m))
		for s := range m {
			if k, err := ParseAssociationKey(s); err == nil {
				idx[k] = s
			}
		}
		return idx
	}
	names := map[string]bool{}
	for s := range out.Statuses {
		names[s] = true
	}
	for s := range out.Results {
		names[s] = true
	}
	for s := range out.Errors {
		names[s] = true
	}
	idx := byKey(names)
	res := make([]AssociationResult, len(keys))
	for i, k := range keys {
		r := AssociationResult{Key: k, Error: errNotAnswered}
		if s, ok := idx[k]; ok {
			r.Error = ""
			if _, ok := out.Statuses[s]; !ok {
				// Listed under results or errors only.
				r.Status = http.StatusNotFound
			}
			if pa, ok := out.Results[s]; ok {
				pa := pa
				r.Association = &pa
				r.Status = http.StatusOK
			}
			if st, ok := out.Statuses[s]; ok {
				r.Status = st
			}
			if e, ok := out.Errors[s]; ok {
				var status int
				r.Error, status = errorText(e)
				if _, has := out.Statuses[s]; !has && r.Association == nil {
					// The error object's own status (a 404: no match), else
					// a server error.
					r.Status = cmp.Or(status, http.StatusInternalServerError)
				}
			}
		}
		res[i] = r
	}
	return res, nil
}

// errNotAnswered is the error of a key the batch answer left out.
const errNotAnswered = "the answer says nothing about this key (no result, status or error): asked again next run"
