package fakeapi

import (
	"net/http"
	"strconv"
)

// Contract is a contract the fake serves.
type Contract struct {
	URN                string
	Name               string
	Description        string
	HasReportingAccess bool
}

// DefaultContracts: two with reporting access, one without.
var DefaultContracts = []Contract{
	{URN: "urn:li:salesContract:1001", Name: "Acme Corp North America", Description: "Enterprise, annual", HasReportingAccess: true},
	{URN: "urn:li:salesContract:1002", Name: "Acme Corp EMEA", Description: "Enterprise, annual", HasReportingAccess: true},
	{URN: "urn:li:salesContract:1003", Name: "Acme Corp Trial", HasReportingAccess: false},
}

// ManyContracts returns n contracts with reporting access
// (urn:li:salesContract:1001 on, the first two DefaultContracts'), and one
// without: for sharded runs.
func ManyContracts(n int) []Contract {
	out := make([]Contract, 0, n+1)
	for i := range n {
		id := strconv.Itoa(1001 + i)
		c := Contract{URN: "urn:li:salesContract:" + id, Name: "Acme Corp unit " + id, HasReportingAccess: true}
		if i < 2 {
			c = DefaultContracts[i]
		}
		out = append(out, c)
	}
	return append(out, Contract{URN: "urn:li:salesContract:" + strconv.Itoa(1001+n), Name: "Acme Corp Trial", HasReportingAccess: false})
}

func (s *Server) contract(urn string) (Contract, bool) {
	for _, c := range s.cfg.Contracts {
		if c.URN == urn {
			return c, true
		}
	}
	return Contract{}, false
}

func (s *Server) contracts(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("q") != "contractsByMember" {
		writeError(w, http.StatusBadRequest, "query parameter q must be contractsByMember")
		return
	}
	f := s.Faults()
	list := s.cfg.Contracts
	switch {
	case f.NoContracts:
		list = nil
	case f.DuplicateContracts:
		list = append(append([]Contract(nil), list...), list...)
	}
	els := make([]map[string]any, 0, len(list))
	for _, c := range list {
		e := map[string]any{"contract": c.URN, "name": c.Name, "hasReportingAccess": c.HasReportingAccess}
		if c.Description != "" {
			e["description"] = c.Description
		}
		els = append(els, e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"elements": els,
		"paging": map[string]any{"count": 10, "start": 0, "total": len(els), "links": []any{}}})
}
