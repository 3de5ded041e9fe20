// Package lineage describes a run as OpenLineage run events and sends
// them to an OpenLineage HTTP endpoint (Marquez, or any server of the
// spec's HTTP transport).
//
// A run emits START when it starts and COMPLETE or FAIL when it ends, all
// with one run id. The events name the job, the parent run (Airflow's
// task, when it passes OPENLINEAGE_PARENT_ID), the API resources read as
// inputs, and one output dataset per stream loaded, with its schema (from
// the stream registry) and what the run wrote (rows, bytes, files).
//
// Building events (build.go), naming datasets (naming.go) and parsing the
// parent (parent.go) do no I/O; emit.go sends, bounded by a deadline, and
// never fails the run.
package lineage

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/google/uuid"

	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// projectURI identifies this program as the producer of the events.
const projectURI = "https://github.com/salesnav-etl/salesnav-etl"

// maxErrorLines bounds the unit errors a FAIL event's message lists.
const maxErrorLines = 10

// Producer is the producer URI of the events of a build: the project's,
// at the build's version when it has one (not "dev").
func Producer(version string) string {
	if version == "" || version == "dev" {
		return projectURI
	}
	return projectURI + "/tree/" + url.PathEscape(version)
}

// NewRunID returns a new run id: a UUIDv7, as OpenLineage recommends
// (time-ordered).
func NewRunID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("making a run id: %w", err)
	}
	return id.String(), nil
}

// Target is where a run writes.
type Target struct {
	// Sink is "parquet" or "clickhouse".
	Sink string
	// ParquetRoot is the dataset root: an absolute directory or a storage
	// URL. AzureAccount is the storage account of an azblob:// root whose
	// URL does not name one.
	ParquetRoot, AzureAccount string
	// ClickHouseDSN is the ClickHouse sink's DSN.
	ClickHouseDSN string
}

// Plan is what the events of one run say before it does anything.
type Plan struct {
	// RunID is the run's UUID (NewRunID).
	RunID string
	// Namespace and Job name the job.
	Namespace, Job string
	// Producer is the producer URI (Producer).
	Producer string
	// Parent is the run that started this one, if any.
	Parent *Parent
	// APIURL is the API root; Streams the run's streams, in run order.
	APIURL  string
	Streams []*schema.Stream
	Target  Target
}

// Description describes one run: from it come its events.
type Description struct {
	plan    Plan
	inputs  []Dataset
	outputs []output
}

// output is a stream's dataset.
type output struct {
	Dataset
	stream *schema.Stream
}

// Describe names the run's inputs and outputs. A run id that is no UUID,
// an empty job, or a location no naming rule covers is an error.
func Describe(p Plan) (*Description, error) {
	if _, err := uuid.Parse(p.RunID); err != nil || len(p.RunID) != 36 {
		return nil, fmt.Errorf("run id %q is not a UUID", p.RunID)
	}
	if p.Namespace == "" || p.Job == "" {
		return nil, fmt.Errorf("job %q/%q: namespace and name are needed", p.Namespace, p.Job)
	}
	d := &Description{plan: p}
	var err error
	if d.inputs, err = APIDatasets(p.APIURL, p.Streams); err != nil {
		return nil, fmt.Errorf("naming the inputs: %w", err)
	}
	for _, st := range p.Streams {
		var ds Dataset
		switch p.Target.Sink {
		case "clickhouse":
			ds, err = ClickHouseDataset(p.Target.ClickHouseDSN, st.Name)
		case "parquet":
			ds, err = ParquetDataset(p.Target.ParquetRoot, st.Name, p.Target.AzureAccount)
		default:
			err = fmt.Errorf("sink %q: %w", p.Target.Sink, ErrBadLocation)
		}
		if err != nil {
			return nil, fmt.Errorf("naming the output of %s: %w", st.Name, err)
		}
		d.outputs = append(d.outputs, output{Dataset: ds, stream: st})
	}
	return d, nil
}

// RunID is the run's id.
func (d *Description) RunID() string { return d.plan.RunID }

// Start is the START event at time at: the job, the parent, the inputs.
// The outputs come with the end event, once known.
func (d *Description) Start(at time.Time) RunEvent {
	return d.event(EventStart, at, nil)
}

// End is the event that ends the run at time at: COMPLETE when failure is
// empty, else FAIL with failure as its error message, followed by the
// summary's first errors. Its outputs are the streams that loaded a
// window (sum may be nil: a run that failed before loading anything),
// each with its schema (declared columns, the drift columns the run met,
// the sink's own columns) and the run's rows, bytes and, for Parquet,
// files. The caller masks secrets in failure.
func (d *Description) End(at time.Time, sum *pipeline.Summary, failure string) RunEvent {
	typ := EventComplete
	if failure != "" {
		typ = EventFail
	}
	ev := d.event(typ, at, sum)
	if failure != "" {
		ev.Run.Facets.ErrorMessage = &ErrorMessageRunFacet{BaseFacet: d.base(errorMessageFacetURL),
			Message: failureMessage(failure, sum), ProgrammingLanguage: programmingLanguage}
	}
	return ev
}

func (d *Description) event(typ string, at time.Time, sum *pipeline.Summary) RunEvent {
	p := d.plan
	ev := RunEvent{
		EventType: typ,
		EventTime: at.UTC(),
		Run:       Run{RunID: p.RunID},
		Job: Job{Namespace: p.Namespace, Name: p.Job, Facets: JobFacets{JobType: &JobTypeJobFacet{
			BaseFacet: d.base(jobTypeFacetURL), ProcessingType: processingTypeBatch, Integration: integrationName, JobType: jobTypeJob}}},
		Inputs:    []InputDataset{},
		Outputs:   []OutputDataset{},
		Producer:  p.Producer,
		SchemaURL: eventSchemaURL,
	}
	if p.Parent != nil {
		ev.Run.Facets.Parent = &ParentRunFacet{BaseFacet: d.base(parentFacetURL),
			Run: ParentRun{RunID: p.Parent.RunID}, Job: ParentJob{Namespace: p.Parent.Namespace, Name: p.Parent.Job}}
	}
	for _, in := range d.inputs {
		ev.Inputs = append(ev.Inputs, InputDataset(in))
	}
	if sum == nil {
		return ev
	}
	for _, o := range d.outputs {
		st := sum.Streams[o.stream.Name]
		if st == nil || st.Windows == 0 {
			continue
		}
		stats := &OutputStatisticsFacet{BaseFacet: d.base(outputStatisticsFacetURL), RowCount: st.Rows, Size: st.Bytes}
		if p.Target.Sink == "parquet" {
			files := int64(st.Files)
			stats.FileCount = &files
		}
		ev.Outputs = append(ev.Outputs, OutputDataset{
			Namespace:    o.Namespace,
			Name:         o.Name,
			Facets:       DatasetFacets{Schema: &SchemaDatasetFacet{BaseFacet: d.base(schemaFacetURL), Fields: Fields(o.stream, st.Drift, p.Target.Sink)}},
			OutputFacets: OutputFacets{OutputStatistics: stats},
		})
	}
	return ev
}

func (d *Description) base(schemaURL string) BaseFacet {
	return BaseFacet{Producer: d.plan.Producer, SchemaURL: schemaURL}
}

// Fields is a stream's schema as the sink stores it: the declared columns
// in their order, then the drift columns (nullable strings), then the
// sink's own columns (ClickHouse's _row_hash for a stream keyed by it) and
// the lineage columns (not for a dimension).
func Fields(st *schema.Stream, drift []string, sink string) []SchemaField {
	var out []SchemaField
	for _, c := range st.Columns {
		f := SchemaField{Name: c.Name, Type: c.Kind.String()}
		var notes []string
		if c.Kind == schema.Enum {
			f.Type = schema.String.String()
			notes = append(notes, "one of "+strings.Join(c.Values, ", "))
		}
		if c.Assumed {
			notes = append(notes, "assumed: not documented by LinkedIn")
		}
		f.Description = strings.Join(notes, "; ")
		out = append(out, f)
	}
	for _, name := range drift {
		out = append(out, SchemaField{Name: name, Type: schema.String.String(), Description: "drift: a column of the export that the stream does not declare"})
	}
	if st.Dimension() {
		return out
	}
	if sink == "clickhouse" && slices.Contains(st.Key, schema.RowHash) {
		out = append(out, SchemaField{Name: schema.RowHash, Type: "uint64", Description: "hash identifying the row (no documented key)"})
	}
	for _, f := range st.LineageFields() {
		out = append(out, SchemaField{Name: f.Name, Type: arrowKind(f.Type), Description: "lineage"})
	}
	return out
}

// arrowKind names a lineage column's Arrow type as the schema's kinds do.
func arrowKind(t arrow.DataType) string {
	switch t.ID() {
	case arrow.STRING:
		return schema.String.String()
	case arrow.INT64:
		return schema.Int64.String()
	case arrow.TIMESTAMP:
		return schema.Timestamp.String()
	case arrow.DATE32:
		return schema.Date.String()
	}
	return t.String()
}

// failureMessage is failure, then the summary's first unit errors.
func failureMessage(failure string, sum *pipeline.Summary) string {
	if sum == nil || len(sum.Errors) == 0 {
		return failure
	}
	var b strings.Builder
	b.WriteString(failure)
	for i, e := range sum.Errors {
		if i == maxErrorLines {
			fmt.Fprintf(&b, "\n… and %d more", len(sum.Errors)-maxErrorLines)
			break
		}
		b.WriteString("\n")
		if where := strings.Join(slices.DeleteFunc([]string{e.Stream, e.Contract, e.Window}, func(s string) bool { return s == "" }), " "); where != "" {
			b.WriteString(where + ": ")
		}
		b.WriteString(e.Error)
	}
	return b.String()
}
