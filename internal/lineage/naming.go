package lineage

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Dataset is an OpenLineage dataset's identity: its namespace (the data
// source) and its name within it, as OpenLineage's naming conventions
// (https://openlineage.io/docs/spec/naming) say.
type Dataset struct {
	Namespace, Name string
}

// ParquetDataset names a stream's Parquet dataset, the directory
// <root>/<stream>:
//
//   - a local directory (root must be absolute): namespace "file", name
//     the absolute path (the spec's "Local file system");
//   - s3://bucket/prefix: namespace s3://bucket, name the object key prefix
//     prefix/stream;
//   - gs://bucket/prefix: namespace gs://bucket, name prefix/stream;
//   - azblob://container/prefix (Azure Blob Storage, the spec's WASBS):
//     namespace wasbs://container@account.dfs.core.windows.net, the
//     account from the URL's storage_account option or else azureAccount
//     (AZURE_STORAGE_ACCOUNT); name prefix/stream.
//
// A URL's query (the storage options) is never part of a name. Another
// location is ErrBadLocation.
func ParquetDataset(root, stream, azureAccount string) (Dataset, error) {
	if !strings.Contains(root, "://") {
		if !filepath.IsAbs(root) {
			return Dataset{}, fmt.Errorf("%q is not an absolute path: %w", root, ErrBadLocation)
		}
		return Dataset{Namespace: "file", Name: filepath.ToSlash(filepath.Join(root, stream))}, nil
	}
	u, err := url.Parse(root)
	if err != nil || u.Host == "" {
		return Dataset{}, fmt.Errorf("%q: %w", root, ErrBadLocation)
	}
	key := strings.TrimPrefix(path.Join(u.Path, stream), "/")
	switch u.Scheme {
	case "s3", "gs":
		return Dataset{Namespace: u.Scheme + "://" + u.Host, Name: key}, nil
	case "azblob":
		account := u.Query().Get("storage_account")
		if account == "" {
			account = azureAccount
		}
		if account == "" {
			return Dataset{}, fmt.Errorf("%q: the storage account is unknown (set AZURE_STORAGE_ACCOUNT or ?storage_account=): %w", root, ErrBadLocation)
		}
		return Dataset{Namespace: "wasbs://" + u.Host + "@" + account + ".dfs.core.windows.net", Name: key}, nil
	}
	return Dataset{}, fmt.Errorf("%q: scheme %q: %w", root, u.Scheme, ErrBadLocation)
}

// ClickHouseDataset names a table of the database of dsn
// (clickhouse://user:password@host:port/database): namespace
// clickhouse://host:port (the first host of a comma-separated list; port
// 9000, or 9440 with secure=true, when the DSN has none), name
// database.table (database "default" when the DSN names none). ClickHouse
// is not in the spec's table; this follows its rule for servers with
// databases and no schemas (MySQL, Hive: scheme://host:port and
// database.table), and OpenLineage's own ClickHouse JDBC naming. The
// credentials are never part of it.
func ClickHouseDataset(dsn, table string) (Dataset, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return Dataset{}, fmt.Errorf("the ClickHouse DSN: %w", ErrBadLocation)
	}
	first, _, _ := strings.Cut(u.Host, ",")
	host, port, err := net.SplitHostPort(first)
	if err != nil {
		host, port = strings.Trim(first, "[]"), "9000"
		if u.Query().Get("secure") == "true" {
			port = "9440"
		}
	}
	db := strings.Trim(u.Path, "/")
	if db == "" {
		db = "default"
	}
	return Dataset{Namespace: "clickhouse://" + net.JoinHostPort(host, port), Name: db + "." + table}, nil
}

// apiResources are the REST resources of the Sales Navigator API that an
// extraction reads. An analytics export lists the contracts first.
var apiResources = map[schema.Extraction][]string{
	schema.AnalyticsExport:     {"salesContracts", "salesAnalyticsExportJobs"},
	schema.CRMValidationExport: {"crmDataValidationExportJobs"},
	schema.AssociationLookup:   {"salesNavigatorProfileAssociations"},
	schema.ContractsList:       {"salesContracts"},
}

// APIDatasets names the API resources the streams read, each once, in the
// streams' order: namespace the API's scheme://host[:port], name the
// resource's path under the API root (/v2/salesAnalyticsExportJobs): the
// spec's rule that a namespace is a URI's scheme and authority and a name
// its path. The root's user info and query are never part of them.
func APIDatasets(apiURL string, streams []*schema.Stream) ([]Dataset, error) {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("API root %q: %w", apiURL, ErrBadLocation)
	}
	var out []Dataset
	for _, st := range streams {
		for _, res := range apiResources[st.Extract] {
			d := Dataset{Namespace: u.Scheme + "://" + u.Host, Name: path.Join("/", u.Path, res)}
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out, nil
}
