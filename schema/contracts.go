package schema

// Contracts is the dimension of the contracts the member can see, loaded
// whole each run. seenAt is when the run listed them.
var Contracts = &Stream{
	Name:         "contracts",
	Extract:      ContractsList,
	Partitioning: WholeTable,
	Write:        Replace,
	DefaultOn:    true,
	Columns: []Column{
		{Name: "contract", Kind: String, Required: true},
		{Name: "name", Kind: String, Nullable: true},
		{Name: "description", Kind: String, Nullable: true},
		{Name: "hasReportingAccess", Kind: Bool},
		{Name: "seenAt", Kind: Timestamp},
	},
	Key:     []string{"contract"},
	Version: "seenAt",
}
