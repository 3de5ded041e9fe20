package cli

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

func newSchemaCmd(lookup envconfig.Lookuper, stdout io.Writer) *cobra.Command {
	var ddl, database string
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the DDL of every stream's table (--ddl clickhouse)",
		Long: `Print the statements that create every stream's ClickHouse table, its
<stream>_final view and the state table, for the database named by --database
(default: the one in SALESNAV_CLICKHOUSE_DSN, else "salesnav"). The DDL works
on ClickHouse 18.16 and on current versions alike.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ddl != "clickhouse" {
				return &exitError{ExitConfig, fmt.Errorf("--ddl %q: supported: clickhouse", ddl)}
			}
			if database == "" {
				database = "salesnav"
				if dsn, ok := lookup.Lookup(envPrefix + "CLICKHOUSE_DSN"); ok && dsn != "" {
					if u, err := url.Parse(dsn); err == nil && strings.Trim(u.Path, "/") != "" {
						database = strings.Trim(u.Path, "/")
					}
				}
			}
			env, err := LoadEnv(cmd.Context(), lookup)
			if err != nil {
				return &exitError{ExitConfig, err}
			}
			var problems []error
			layout := env.layout(func(ptr *string, format string, args ...any) {
				problems = append(problems, fmt.Errorf("%s: %s", env.names[ptr], fmt.Sprintf(format, args...)))
			})
			if len(problems) > 0 {
				return &exitError{ExitConfig, errors.Join(problems...)}
			}
			stmts := []string{}
			db, err := layout.CreateDatabase(database)
			if err != nil {
				return &exitError{ExitConfig, fmt.Errorf("--database: %w", err)}
			}
			stmts = append(stmts, db)
			for _, st := range schema.All() {
				s, err := layout.StreamDDL(database, st)
				if err != nil {
					return &exitError{ExitFailure, err}
				}
				stmts = append(stmts, s...)
			}
			state, _ := layout.CreateStateTable(database)
			jobs, _ := layout.CreateJobsTable(database)
			stmts = append(stmts, state, jobs)
			for _, s := range stmts {
				fmt.Fprintf(stdout, "%s;\n\n", s)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&ddl, "ddl", "clickhouse", "DDL dialect: clickhouse")
	cmd.Flags().StringVar(&database, "database", "", "database name")
	return cmd
}
