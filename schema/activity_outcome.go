package schema

// ActivityOutcome is the activity outcome export
// (exportActivityOutcomeData). LinkedIn documents only that it starts with
// activityId and activityType; the outcome types are not listed, so
// activityType is a plain string. createdAt (the outcome's time, used to
// partition rows by date) and seatId are assumptions, so neither is
// required: a file with just the documented columns loads whole, its rows
// (no createdAt, no day) in the window's first day (Stream.DayOptional).
var ActivityOutcome = &Stream{
	Name:         "activity_outcome",
	Extract:      AnalyticsExport,
	Action:       "exportActivityOutcomeData",
	Partitioning: ByRecordDay,
	DayColumn:    "createdAt",
	Write:        MergeByKey,
	DefaultOn:    true,
	Columns: []Column{
		{Name: "activityId", Kind: String, Required: true, Distinct: true},
		{Name: "activityType", Kind: String, Required: true},
		{Name: "createdAt", Kind: Timestamp, Assumed: true, Distinct: true},
		{Name: "seatId", Kind: Int64, Nullable: true, Assumed: true},
	},
	Key: []string{LineageContract, "activityId", "activityType"},
}
