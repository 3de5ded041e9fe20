package extract

import (
	"context"
	"errors"
	"net/http"
	"strconv"
)

// contractsPage is the page size asked of getContracts.
const contractsPage = 100

// Contracts lists the contracts in which the member has an active seat
// (GET /salesContracts?q=contractsByMember), following Rest.li paging
// (start, count): it asks for the next page while a page comes back full,
// or while paging.total says more remain. A contract listed again (pages
// that shifted between calls) is returned once, as first listed.
func (c *Client) Contracts(ctx context.Context) ([]Contract, error) {
	var all []Contract
	seen := map[string]bool{}
	start := 0
	for page := 0; page < 1000; page++ {
		q := "q=contractsByMember&start=" + strconv.Itoa(start) + "&count=" + strconv.Itoa(contractsPage)
		var out struct {
			Elements []Contract `json:"elements"`
			Paging   *Paging    `json:"paging"`
		}
		if _, _, err := c.callJSON(ctx, "getContracts", http.MethodGet, "/salesContracts", q, nil, &out); err != nil {
			return nil, err
		}
		for _, e := range out.Elements {
			if !seen[e.Contract] {
				seen[e.Contract] = true
				all = append(all, e)
			}
		}
		start += len(out.Elements)
		size := contractsPage
		if out.Paging != nil && out.Paging.Count > 0 {
			size = out.Paging.Count
		}
		more := len(out.Elements) >= size
		if out.Paging != nil && out.Paging.Total != nil {
			more = start < *out.Paging.Total
		}
		if len(out.Elements) == 0 || !more {
			return all, nil
		}
	}
	return nil, errors.New("getContracts: more than 1000 pages")
}

// SalesAccessToken fetches a token for the embedded Sales Navigator iframe
// (GET /salesAccessTokens?q=viewerAndDeveloperApp).
func (c *Client) SalesAccessToken(ctx context.Context) (SalesAccessToken, error) {
	var out struct {
		Elements []SalesAccessToken `json:"elements"`
	}
	if _, _, err := c.callJSON(ctx, "getSalesAccessToken", http.MethodGet, "/salesAccessTokens", "q=viewerAndDeveloperApp", nil, &out); err != nil {
		return SalesAccessToken{}, err
	}
	if len(out.Elements) == 0 || out.Elements[0].Token == "" {
		return SalesAccessToken{}, errors.New("getSalesAccessToken: answer has no token")
	}
	return out.Elements[0], nil
}
