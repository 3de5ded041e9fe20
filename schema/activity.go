package schema

// ActivityTypes are the seven documented activity types.
var ActivityTypes = []string{
	"SAVED_LEAD", "SAVED_ACCOUNT", "SEARCH_PERFORMED", "PROFILE_VIEWED",
	"INMAIL_SENT", "MESSAGE_SENT", "CONNECTION_MADE",
}

// Activity is the activity export (exportActivityData), documented in full.
var Activity = &Stream{
	Name:         "activity",
	Extract:      AnalyticsExport,
	Action:       "exportActivityData",
	Partitioning: ByRecordDay,
	DayColumn:    "createdAt",
	Write:        MergeByKey,
	DefaultOn:    true,
	Columns: []Column{
		{Name: "activityId", Kind: String, Required: true, Distinct: true},
		{Name: "activityType", Kind: Enum, Required: true, Values: ActivityTypes},
		{Name: "createdAt", Kind: Timestamp, Required: true, Distinct: true},
		{Name: "seatId", Kind: Int64, Required: true},
		{Name: "memberIdentityKey", Kind: String, Required: false, Nullable: true}, // a member's activities repeat it
	},
	Key: []string{LineageContract, "activityId"},
}
