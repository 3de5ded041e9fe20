// Package airbyte speaks the Airbyte source protocol
// (airbytehq/airbyte-protocol, airbyte_protocol.yaml): spec, check,
// discover and read, as one JSON message a line on standard output
// (Writer), logs included (LogHandler). A read runs the pipeline with the
// connector package's Sink and State (Read).
package airbyte

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/salesnav-etl/salesnav-etl/connector"
)

// Message types.
const (
	TypeRecord           = "RECORD"
	TypeState            = "STATE"
	TypeLog              = "LOG"
	TypeSpec             = "SPEC"
	TypeConnectionStatus = "CONNECTION_STATUS"
	TypeCatalog          = "CATALOG"
	TypeTrace            = "TRACE"
)

// Message is an AirbyteMessage: the envelope of every line (records are
// framed by hand, Writer.Record).
type Message struct {
	Type             string            `json:"type"`
	Log              *Log              `json:"log,omitempty"`
	Spec             *Spec             `json:"spec,omitempty"`
	ConnectionStatus *ConnectionStatus `json:"connectionStatus,omitempty"`
	Catalog          *Catalog          `json:"catalog,omitempty"`
	State            *State            `json:"state,omitempty"`
	Trace            *Trace            `json:"trace,omitempty"`
}

// Log is an AirbyteLogMessage.
type Log struct {
	Level   string `json:"level"`
	Message string `json:"message"`
}

// Spec is a ConnectorSpecification.
type Spec struct {
	DocumentationURL        string         `json:"documentationUrl,omitempty"`
	ConnectionSpecification map[string]any `json:"connectionSpecification"`
	SupportsIncremental     bool           `json:"supportsIncremental"`
}

// Connection statuses.
const (
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
)

// ConnectionStatus is an AirbyteConnectionStatus.
type ConnectionStatus struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// Catalog is an AirbyteCatalog.
type Catalog struct {
	Streams []Stream `json:"streams"`
}

// Sync modes.
const (
	FullRefresh = "full_refresh"
	Incremental = "incremental"
)

// Stream is an AirbyteStream.
type Stream struct {
	Name                    string         `json:"name"`
	JSONSchema              map[string]any `json:"json_schema"`
	SupportedSyncModes      []string       `json:"supported_sync_modes"`
	SourceDefinedCursor     bool           `json:"source_defined_cursor,omitempty"`
	DefaultCursorField      []string       `json:"default_cursor_field,omitempty"`
	SourceDefinedPrimaryKey [][]string     `json:"source_defined_primary_key,omitempty"`
	IsResumable             bool           `json:"is_resumable,omitempty"`
}

// StreamDescriptor names a stream.
type StreamDescriptor struct {
	Name string `json:"name"`
}

// State is an AirbyteStateMessage of type STREAM (the only type this
// source emits).
type State struct {
	Type   string       `json:"type"`
	Stream *StreamState `json:"stream,omitempty"`
}

// StreamState is an AirbyteStreamState.
type StreamState struct {
	StreamDescriptor StreamDescriptor `json:"stream_descriptor"`
	StreamState      json.RawMessage  `json:"stream_state,omitempty"`
}

// Trace types.
const (
	TraceError        = "ERROR"
	TraceStreamStatus = "STREAM_STATUS"
	TraceAnalytics    = "ANALYTICS"
)

// Failure types of an error trace.
const (
	SystemError    = "system_error"
	ConfigError    = "config_error"
	TransientError = "transient_error"
)

// Stream statuses.
const (
	Started    = "STARTED"
	Running    = "RUNNING"
	Complete   = "COMPLETE"
	Incomplete = "INCOMPLETE"
)

// Trace is an AirbyteTraceMessage.
type Trace struct {
	Type         string        `json:"type"`
	EmittedAt    int64         `json:"emitted_at"`
	Error        *ErrorTrace   `json:"error,omitempty"`
	StreamStatus *StreamStatus `json:"stream_status,omitempty"`
	Analytics    *Analytics    `json:"analytics,omitempty"`
}

// ErrorTrace is an AirbyteErrorTraceMessage.
type ErrorTrace struct {
	Message          string            `json:"message"`
	InternalMessage  string            `json:"internal_message,omitempty"`
	FailureType      string            `json:"failure_type"`
	StreamDescriptor *StreamDescriptor `json:"stream_descriptor,omitempty"`
}

// StreamStatus is an AirbyteStreamStatusTraceMessage.
type StreamStatus struct {
	StreamDescriptor StreamDescriptor `json:"stream_descriptor"`
	Status           string           `json:"status"`
}

// Analytics is an AirbyteAnalyticsTraceMessage: an event of a static type
// and a free value.
type Analytics struct {
	Type  string `json:"type"`
	Value string `json:"value,omitempty"`
}

// Writer writes Airbyte messages to an Output, stamped by its clock.
type Writer struct {
	Out *connector.Output
	Now func() time.Time
}

func (w *Writer) now() time.Time {
	if w.Now == nil {
		return time.Now()
	}
	return w.Now()
}

func (w *Writer) trace(t Trace) error {
	t.EmittedAt = w.now().UnixMilli()
	return w.Out.JSON(Message{Type: TypeTrace, Trace: &t})
}

// Error writes an error trace; stream is "" for the whole sync.
func (w *Writer) Error(stream, message, internal, failure string) error {
	e := &ErrorTrace{Message: message, InternalMessage: internal, FailureType: failure}
	if stream != "" {
		e.StreamDescriptor = &StreamDescriptor{Name: stream}
	}
	return w.trace(Trace{Type: TraceError, Error: e})
}

// Status writes a stream status trace.
func (w *Writer) Status(stream, status string) error {
	return w.trace(Trace{Type: TraceStreamStatus, StreamStatus: &StreamStatus{StreamDescriptor: StreamDescriptor{Name: stream}, Status: status}})
}

// Analytics writes an analytics trace.
func (w *Writer) Analytics(typ, value string) error {
	return w.trace(Trace{Type: TraceAnalytics, Analytics: &Analytics{Type: typ, Value: value}})
}

// Log writes a log message.
func (w *Writer) Log(level, message string) error {
	return w.Out.JSON(Message{Type: TypeLog, Log: &Log{Level: level, Message: message}})
}

// ConnectionStatus writes the outcome of check.
func (w *Writer) ConnectionStatus(status, message string) error {
	return w.Out.JSON(Message{Type: TypeConnectionStatus, ConnectionStatus: &ConnectionStatus{Status: status, Message: message}})
}

// State writes a per-stream state message.
func (w *Writer) State(stream string, st connector.StreamState) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return w.Out.JSON(Message{Type: TypeState, State: &State{Type: "STREAM",
		Stream: &StreamState{StreamDescriptor: StreamDescriptor{Name: stream}, StreamState: raw}}})
}

// Record is the framing of record messages:
// {"type":"RECORD","record":{"stream":…,"emitted_at":…,"data":DATA}}.
func (w *Writer) Record(stream string, at time.Time) (prefix, suffix []byte) {
	prefix = append([]byte(`{"type":"RECORD","record":{"stream":`), connector.AppendString(nil, stream)...)
	prefix = append(prefix, `,"emitted_at":`...)
	prefix = append(prefix, []byte(itoa(at.UnixMilli()))...)
	prefix = append(prefix, `,"data":`...)
	return prefix, []byte("}}")
}

var _ connector.Framing = (*Writer)(nil)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Checked writes the CONNECTION_STATUS of a check: SUCCEEDED when err is
// nil, else FAILED with err's text, which names what failed.
func (w *Writer) Checked(err error) error {
	if err == nil {
		return w.ConnectionStatus(StatusSucceeded, "")
	}
	return w.ConnectionStatus(StatusFailed, err.Error())
}
