package schema

// CRMRecordIDColumn is the CRM validation column holding the CRM record
// id, the recordId of a profile association key (an assumption).
const CRMRecordIDColumn = "recordId"

// CRMValidation is the CRM data validation export: CRM contact and lead
// records whose company on LinkedIn no longer matches the CRM. LinkedIn
// does not publish its columns: every name here is an assumption, none is
// required, and all are strings so that a wrong guess about a format
// rejects nothing. Each export is one partition, replaced whole when the
// same exportStartAt is extracted again (after a crash before the cursor
// was saved). Rows are told apart by a hash of all their data columns.
var CRMValidation = &Stream{
	Name:         "crm_validation",
	Extract:      CRMValidationExport,
	Partitioning: PerExportJob,
	Write:        Replace,
	Columns: []Column{
		{Name: CRMRecordIDColumn, Kind: String, Nullable: true, Assumed: true},
		{Name: "recordType", Kind: String, Nullable: true, Assumed: true},
		{Name: "firstName", Kind: String, Nullable: true, Assumed: true},
		{Name: "lastName", Kind: String, Nullable: true, Assumed: true},
		{Name: "crmCompanyName", Kind: String, Nullable: true, Assumed: true},
		{Name: "linkedInCompanyName", Kind: String, Nullable: true, Assumed: true},
		{Name: "detectedAt", Kind: String, Nullable: true, Assumed: true},
	},
	Key: []string{LineageCRMInstance, LineageExportStartAt, RowHash},
}
