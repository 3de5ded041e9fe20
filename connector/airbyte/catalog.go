package airbyte

import (
	"github.com/salesnav-etl/salesnav-etl/connector"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// DocumentationURL is where the connector's Airbyte and Singer use is
// documented.
const DocumentationURL = "https://github.com/salesnav-etl/salesnav-etl/blob/main/docs/integrations.md"

// SpecOf is the connector's specification: the configuration's JSON
// schema, secrets marked airbyte_secret.
func SpecOf() Spec {
	return Spec{DocumentationURL: DocumentationURL, ConnectionSpecification: connector.ConfigSchema(), SupportsIncremental: true}
}

// Spec writes the SPEC message.
func (w *Writer) Spec() error {
	s := SpecOf()
	return w.Out.JSON(Message{Type: TypeSpec, Spec: &s})
}

// CatalogOf is the catalog of streams, from the stream registry: each
// stream's JSON schema, its sync modes (incremental for every stream
// with a cursor), its source-defined cursor and primary key.
func CatalogOf(streams []*schema.Stream) Catalog {
	c := Catalog{Streams: []Stream{}}
	for _, st := range streams {
		s := Stream{Name: st.Name, JSONSchema: connector.StreamSchema(st, connector.Airbyte), SupportedSyncModes: []string{FullRefresh}}
		for _, k := range connector.PrimaryKey(st) {
			s.SourceDefinedPrimaryKey = append(s.SourceDefinedPrimaryKey, []string{k})
		}
		if f := connector.CursorField(st); f != "" {
			s.SupportedSyncModes = append(s.SupportedSyncModes, Incremental)
			s.SourceDefinedCursor = true
			s.DefaultCursorField = []string{f}
			s.IsResumable = true
		}
		c.Streams = append(c.Streams, s)
	}
	return c
}

// Catalog writes the CATALOG message of streams.
func (w *Writer) Catalog(streams []*schema.Stream) error {
	c := CatalogOf(streams)
	return w.Out.JSON(Message{Type: TypeCatalog, Catalog: &c})
}
