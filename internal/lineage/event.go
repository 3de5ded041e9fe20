package lineage

import "time"

// The versions of the OpenLineage specification the events follow: the
// run event's schema and each facet's. testdata/spec holds these very
// files, and the tests validate every event against them.
const (
	eventSchemaURL           = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
	parentFacetURL           = "https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet"
	errorMessageFacetURL     = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
	jobTypeFacetURL          = "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
	schemaFacetURL           = "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
	outputStatisticsFacetURL = "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet"
	programmingLanguage      = "GO"
	processingTypeBatch      = "BATCH"
	integrationName          = "SALESNAV_ETL"
	jobTypeJob               = "JOB"
)

// The event types a run emits: START when it starts, then COMPLETE or
// FAIL.
const (
	EventStart    = "START"
	EventComplete = "COMPLETE"
	EventFail     = "FAIL"
)

// RunEvent is an OpenLineage run event: a run of a job changed state.
type RunEvent struct {
	EventType string          `json:"eventType"`
	EventTime time.Time       `json:"eventTime"`
	Run       Run             `json:"run"`
	Job       Job             `json:"job"`
	Inputs    []InputDataset  `json:"inputs"`
	Outputs   []OutputDataset `json:"outputs"`
	Producer  string          `json:"producer"`
	SchemaURL string          `json:"schemaURL"`
}

// Run identifies the run and carries its facets.
type Run struct {
	RunID  string    `json:"runId"`
	Facets RunFacets `json:"facets,omitzero"`
}

// RunFacets are the run facets the connector emits.
type RunFacets struct {
	Parent       *ParentRunFacet       `json:"parent,omitempty"`
	ErrorMessage *ErrorMessageRunFacet `json:"errorMessage,omitempty"`
}

// Job identifies the job and carries its facets.
type Job struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Facets    JobFacets `json:"facets,omitzero"`
}

// JobFacets are the job facets the connector emits.
type JobFacets struct {
	JobType *JobTypeJobFacet `json:"jobType,omitempty"`
}

// InputDataset is a dataset the run read.
type InputDataset struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// OutputDataset is a dataset the run wrote, with its schema and what the
// run wrote to it.
type OutputDataset struct {
	Namespace    string        `json:"namespace"`
	Name         string        `json:"name"`
	Facets       DatasetFacets `json:"facets,omitzero"`
	OutputFacets OutputFacets  `json:"outputFacets,omitzero"`
}

// DatasetFacets are the dataset facets the connector emits.
type DatasetFacets struct {
	Schema *SchemaDatasetFacet `json:"schema,omitempty"`
}

// OutputFacets are the output dataset facets the connector emits.
type OutputFacets struct {
	OutputStatistics *OutputStatisticsFacet `json:"outputStatistics,omitempty"`
}

// BaseFacet is what every facet carries: who produced it, and the schema
// it follows.
type BaseFacet struct {
	Producer  string `json:"_producer"`
	SchemaURL string `json:"_schemaURL"`
}

// ParentRunFacet names the run that started this one (Airflow's task run).
type ParentRunFacet struct {
	BaseFacet
	Run ParentRun `json:"run"`
	Job ParentJob `json:"job"`
}

// ParentRun is the parent's run id.
type ParentRun struct {
	RunID string `json:"runId"`
}

// ParentJob is the parent's job.
type ParentJob struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// ErrorMessageRunFacet says why a run failed.
type ErrorMessageRunFacet struct {
	BaseFacet
	Message             string `json:"message"`
	ProgrammingLanguage string `json:"programmingLanguage"`
}

// JobTypeJobFacet says what kind of job this is: a batch job of this
// connector.
type JobTypeJobFacet struct {
	BaseFacet
	ProcessingType string `json:"processingType"`
	Integration    string `json:"integration"`
	JobType        string `json:"jobType,omitempty"`
}

// SchemaDatasetFacet lists a dataset's fields.
type SchemaDatasetFacet struct {
	BaseFacet
	Fields []SchemaField `json:"fields"`
}

// SchemaField is one field of a dataset.
type SchemaField struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
}

// OutputStatisticsFacet is what a run wrote to a dataset: rows, bytes and,
// for files, how many.
type OutputStatisticsFacet struct {
	BaseFacet
	RowCount  int64  `json:"rowCount"`
	Size      int64  `json:"size"`
	FileCount *int64 `json:"fileCount,omitempty"`
}
