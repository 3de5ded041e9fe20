package schema

// Association statuses.
const (
	AssociationMatched   = "MATCHED"   // a profile was found
	AssociationUnmatched = "UNMATCHED" // no confident match (404): not a failure
	AssociationError     = "ERROR"     // the API reported an error for the key
)

// ProfileAssociations holds the Sales Navigator profile matched to each CRM
// record looked up: one row per key, the newest lookup wins.
var ProfileAssociations = &Stream{
	Name:         "profile_associations",
	Extract:      AssociationLookup,
	Partitioning: WholeTable,
	Write:        MergeByKey,
	Columns: []Column{
		{Name: "instanceId", Kind: String, Required: true},
		{Name: "partner", Kind: String, Required: true},
		{Name: "recordId", Kind: String, Required: true},
		{Name: "status", Kind: Enum, Required: true, Values: []string{AssociationMatched, AssociationUnmatched, AssociationError}},
		{Name: "httpStatus", Kind: Int64},
		{Name: "member", Kind: String, Nullable: true},
		{Name: "profile", Kind: String, Nullable: true},
		{Name: "profilePhoto", Kind: String, Nullable: true},
		{Name: "error", Kind: String, Nullable: true},
		{Name: "fetchedAt", Kind: Timestamp},
	},
	Key:     []string{"instanceId", "partner", "recordId"},
	Version: "fetchedAt",
}
