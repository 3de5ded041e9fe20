package lineage

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

func TestParquetDataset(t *testing.T) {
	for _, tc := range []struct {
		root, account string
		want          Dataset
		bad           bool
	}{
		{root: "/data/salesnav", want: Dataset{"file", "/data/salesnav/activity"}},
		{root: "/data/salesnav/", want: Dataset{"file", "/data/salesnav/activity"}},
		{root: "out", bad: true}, // relative: the caller makes it absolute
		{root: "s3://lake/salesnav/raw", want: Dataset{"s3://lake", "salesnav/raw/activity"}},
		{root: "s3://lake", want: Dataset{"s3://lake", "activity"}},
		{root: "s3://lake/salesnav?region=eu-west-1&awssdk=v2", want: Dataset{"s3://lake", "salesnav/activity"}},
		{root: "gs://lake/salesnav", want: Dataset{"gs://lake", "salesnav/activity"}},
		{root: "azblob://lake/salesnav?storage_account=acme", want: Dataset{"wasbs://lake@acme.dfs.core.windows.net", "salesnav/activity"}},
		{root: "azblob://lake/salesnav", account: "acme2", want: Dataset{"wasbs://lake@acme2.dfs.core.windows.net", "salesnav/activity"}},
		{root: "azblob://lake/salesnav", bad: true}, // no account
		{root: "file:///data/salesnav", bad: true},
		{root: "s3:///nobucket", bad: true},
	} {
		got, err := ParquetDataset(tc.root, "activity", tc.account)
		if tc.bad {
			if !errors.Is(err, ErrBadLocation) {
				t.Errorf("%q: %v, want ErrBadLocation", tc.root, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v %v, want %+v", tc.root, got, err, tc.want)
		}
	}
}

func TestClickHouseDataset(t *testing.T) {
	for dsn, want := range map[string]Dataset{
		"clickhouse://etl:s3cret@ch1.internal:9000/salesnav":                 {"clickhouse://ch1.internal:9000", "salesnav.activity"},
		"clickhouse://ch1.internal/salesnav":                                 {"clickhouse://ch1.internal:9000", "salesnav.activity"},
		"clickhouse://ch1.internal/salesnav?secure=true":                     {"clickhouse://ch1.internal:9440", "salesnav.activity"},
		"clickhouse://ch1:9001,ch2:9002/salesnav":                            {"clickhouse://ch1:9001", "salesnav.activity"},
		"clickhouse://[::1]:9000/salesnav":                                   {"clickhouse://[::1]:9000", "salesnav.activity"},
		"clickhouse://etl:s3cret@ch1:9000":                                   {"clickhouse://ch1:9000", "default.activity"},
		"clickhouse://etl@ch1:9000/salesnav?password=s3cret&dial_timeout=5s": {"clickhouse://ch1:9000", "salesnav.activity"},
	} {
		got, err := ClickHouseDataset(dsn, "activity")
		if err != nil || got != want {
			t.Errorf("%q: %+v %v, want %+v", dsn, got, err, want)
		}
		if strings.Contains(got.Namespace+got.Name, "s3cret") || strings.Contains(got.Namespace, "etl") {
			t.Errorf("%q: credentials in %+v", dsn, got)
		}
	}
	if _, err := ClickHouseDataset("not a dsn", "activity"); !errors.Is(err, ErrBadLocation) {
		t.Errorf("a bad DSN: %v", err)
	}
}

func TestAPIDatasets(t *testing.T) {
	all := []*schema.Stream{schema.Contracts, schema.Seat, schema.Activity, schema.CRMValidation, schema.ProfileAssociations}
	got, err := APIDatasets("https://user:pw@api.linkedin.com/v2?x=1", all)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range got {
		if d.Namespace != "https://api.linkedin.com" {
			t.Errorf("namespace %q", d.Namespace)
		}
		names = append(names, d.Name)
	}
	want := []string{"/v2/salesContracts", "/v2/salesAnalyticsExportJobs", "/v2/crmDataValidationExportJobs", "/v2/salesNavigatorProfileAssociations"}
	if !slices.Equal(names, want) {
		t.Errorf("inputs %v, want %v (each resource once, in stream order)", names, want)
	}
	// The fake API on loopback: its port is part of the namespace.
	got, _ = APIDatasets("http://127.0.0.1:8089/v2", []*schema.Stream{schema.CRMValidation})
	if len(got) != 1 || got[0] != (Dataset{"http://127.0.0.1:8089", "/v2/crmDataValidationExportJobs"}) {
		t.Errorf("fake API: %+v", got)
	}
	// Every extraction reads some resource.
	for _, st := range schema.All() {
		if len(apiResources[st.Extract]) == 0 {
			t.Errorf("stream %s: extraction %s has no API resource", st.Name, st.Extract)
		}
	}
	if _, err := APIDatasets("ftp://api.linkedin.com", all); !errors.Is(err, ErrBadLocation) {
		t.Errorf("ftp: %v", err)
	}
}
