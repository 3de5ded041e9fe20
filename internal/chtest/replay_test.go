package chtest

import (
	"testing"
	"time"
)

func TestLocalForm(t *testing.T) {
	for _, c := range []struct {
		name, in, check, run string
	}{
		{"single server", "SELECT count() FROM `db`.`activity_final`", "", "SELECT count() FROM `db`.`activity_final`"},
		{"database", "CREATE DATABASE IF NOT EXISTS `db` ON CLUSTER `sharded`", "CREATE DATABASE IF NOT EXISTS `db` ON CLUSTER `sharded`", "CREATE DATABASE IF NOT EXISTS `db`"},
		{"replicated table",
			"CREATE TABLE IF NOT EXISTS `db`.`seat` ON CLUSTER `sharded`\n(`x` Int64)\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/seat', '{replica}', `_extracted_at`)\nORDER BY (`x`)",
			"CREATE TABLE IF NOT EXISTS `db`.`seat` ON CLUSTER `sharded`\n(`x` Int64)\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/seat', '{replica}', `_extracted_at`)\nORDER BY (`x`)",
			"CREATE TABLE IF NOT EXISTS `db`.`seat`\n(`x` Int64)\nENGINE = ReplacingMergeTree(`_extracted_at`)\nORDER BY (`x`)"},
		{"replicated, no version", "ENGINE = ReplicatedMergeTree('/p/it\\'s', 'r')", "ENGINE = ReplicatedMergeTree('/p/it\\'s', 'r')", "ENGINE = MergeTree()"},
		{"distributed table", "CREATE TABLE IF NOT EXISTS `db`.`seat_dist` ON CLUSTER `sharded`\n(`x` Int64)\nENGINE = Distributed('sharded', 'db', 'seat', cityHash64(`x`))",
			"CREATE TABLE IF NOT EXISTS `db`.`seat_dist` ON CLUSTER `sharded`\n(`x` Int64)\nENGINE = Distributed('sharded', 'db', 'seat', cityHash64(`x`))", ""},
		{"drop distributed", "DROP TABLE IF EXISTS `db`.`seat_dist` ON CLUSTER `sharded`", "DROP TABLE IF EXISTS `db`.`seat_dist` ON CLUSTER `sharded`", ""},
		{"move through distributed", "INSERT INTO `db`.`activity_dist` (`a`) SELECT `a` FROM `db`.`_stage_1`", "", "INSERT INTO `db`.`activity` (`a`) SELECT `a` FROM `db`.`_stage_1`"},
		{"view over distributed", "CREATE VIEW IF NOT EXISTS `db`.`seat_final` ON CLUSTER sharded AS SELECT * FROM `db`.`seat_dist` FINAL",
			"CREATE VIEW IF NOT EXISTS `db`.`seat_final` ON CLUSTER sharded AS SELECT * FROM `db`.`seat_dist` FINAL",
			"CREATE VIEW IF NOT EXISTS `db`.`seat_final` AS SELECT * FROM `db`.`seat` FINAL"},
		{"names in strings stay", "SELECT name FROM system.tables WHERE name = 'seat_dist'", "", "SELECT name FROM system.tables WHERE name = 'seat_dist'"},
		{"cluster name quoted", "ALTER TABLE `db`.`t` ON CLUSTER `a b\\`c` ADD COLUMN `r` Nullable(String)", "ALTER TABLE `db`.`t` ON CLUSTER `a b\\`c` ADD COLUMN `r` Nullable(String)", "ALTER TABLE `db`.`t` ADD COLUMN `r` Nullable(String)"},
	} {
		check, run := LocalForm(c.in)
		if check != c.check || run != c.run {
			t.Errorf("%s:\ncheck %q\nwant  %q\nrun   %q\nwant  %q", c.name, check, c.check, run, c.run)
		}
	}
}

func TestBindAndLiteral(t *testing.T) {
	s := "it's \\ here"
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		query string
		args  []any
		want  string
	}{
		{"SELECT 1", nil, "SELECT 1"},
		{"WHERE a = ? AND b = ?", []any{"x", int64(7)}, "WHERE a = 'x' AND b = 7"},
		{"WHERE a = '?' AND b = ?", []any{s}, `WHERE a = '?' AND b = 'it\'s \\ here'`},
		{"WHERE `c?` = ? AND d = ?", []any{&s, (*string)(nil)}, "WHERE `c?` = 'it\\'s \\\\ here' AND d = NULL"},
		{"toDate(?), ?, ?, ?", []any{day, day.Add(90 * time.Minute), uint8(1), true}, "toDate('2026-03-01'), '2026-03-01 01:30:00', 1, 1"},
		{"f(?)", []any{1.5}, "f(1.5)"},
	} {
		if got := Bind(c.query, c.args...); got != c.want {
			t.Errorf("Bind(%q, %v) = %q, want %q", c.query, c.args, got, c.want)
		}
	}
	st := Statement{SQL: "INSERT INTO `t` (`a`, `b`)", Rows: [][]string{{"'x'", "1"}, {"NULL", "2"}}}
	if got := st.Text(); got != "INSERT INTO `t` (`a`, `b`) VALUES ('x', 1), (NULL, 2)" {
		t.Errorf("insert text %q", got)
	}
}
