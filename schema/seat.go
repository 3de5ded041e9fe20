package schema

// Seat is the seat export (exportSeatData): one row per seat holder, a
// snapshot per export window. LinkedIn names its content (name, seat status,
// Social Selling Index scores, total connections) but not its columns: every
// column name here is an assumption, and none is required.
var Seat = &Stream{
	Name:         "seat",
	Extract:      AnalyticsExport,
	Action:       "exportSeatData",
	Partitioning: SnapshotDay,
	Write:        Replace,
	DefaultOn:    true,
	Columns: []Column{
		{Name: "seatId", Kind: Int64, Nullable: true, Assumed: true},
		{Name: "firstName", Kind: String, Nullable: true, Assumed: true},
		{Name: "lastName", Kind: String, Nullable: true, Assumed: true},
		{Name: "seatStatus", Kind: String, Nullable: true, Assumed: true},
		{Name: "socialSellingIndex", Kind: Float64, Nullable: true, Assumed: true},
		{Name: "ssiProfessionalBrand", Kind: Float64, Nullable: true, Assumed: true},
		{Name: "ssiFindRightPeople", Kind: Float64, Nullable: true, Assumed: true},
		{Name: "ssiEngageWithInsights", Kind: Float64, Nullable: true, Assumed: true},
		{Name: "ssiBuildRelationships", Kind: Float64, Nullable: true, Assumed: true},
		{Name: "totalConnections", Kind: Int64, Nullable: true, Assumed: true},
	},
	// No column of the seat export is documented, so rows are told apart
	// by a hash (computed by the ClickHouse sink) of seatId, an assumed
	// column, when the row has one, and of all its data columns otherwise:
	// a snapshot extracted again replaces its seats, and a guess about the
	// column name can never merge two different rows.
	Key:      []string{LineageContract, LineageSnapshotDate, RowHash},
	Identity: []string{"seatId"},
}
