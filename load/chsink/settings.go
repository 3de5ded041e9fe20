package chsink

// This file chooses the settings the sink sends, by server version, with
// no I/O. Every setting, engine, function and clause the sink uses was
// reviewed against ClickHouse 18.16 and 26.7 (docs/clickhouse.md, "Server
// versions"); two settings differ by version:
//
//   - allow_experimental_low_cardinality_type: LowCardinality was
//     experimental on 18.x and production-ready from 19.3 (ClickHouse
//     PR 4323, a backward-incompatible change), after which the name was
//     kept only as an obsolete setting and then removed: ClickHouse 26.7
//     answers 115 UNKNOWN_SETTING to any query that carries it. Sent only
//     to servers older than 19.3.
//   - distributed_ddl_task_timeout: the same name and meaning from 18.16
//     to 26.x. Sent on a cluster only (ON CLUSTER statements).
//   - insert_distributed_sync: sent with each move. 23.x renamed it
//     distributed_foreground_insert and kept the old name as its alias
//     (system.settings.alias_for on 26.7), so one name serves every version.
//   - allow_replace_partition_from_empty_source: 26.6 made REPLACE
//     PARTITION from a source with no parts in the partition an error
//     (system.settings_changes); sent with each REPLACE PARTITION to 26.6
//     and later, unknown before.
//
// The engines (Log staging tables, ReplacingMergeTree and its Replicated
// form, Distributed), clauses (REPLACE PARTITION … FROM, FINAL, ON
// CLUSTER), functions (startsWith, cityHash64, now) and types
// (LowCardinality, Nullable, DateTime('UTC'), Date) are the same on both,
// the empty-source check of REPLACE PARTITION aside;
// TestStatementsReplayOnCurrentClickHouse runs every statement of a run on
// 26.7.

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Version is a ClickHouse server version, as its native handshake reports it.
type Version struct {
	Major, Minor, Patch uint64
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// atLeast reports whether v is major.minor or newer.
func (v Version) atLeast(major, minor uint64) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// ParseVersion parses "26.7.2.1", "18.16.1" or "24.8": the first three
// numbers, a missing one 0. It refuses text that does not start with
// major.minor.
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("ClickHouse version %q: want major.minor", s)
	}
	var nums [3]uint64
	for i := 0; i < len(parts) && i < 3; i++ {
		n, err := strconv.ParseUint(parts[i], 10, 32)
		if err != nil {
			return Version{}, fmt.Errorf("ClickHouse version %q: part %d: %w", s, i+1, err)
		}
		nums[i] = n
	}
	return Version{nums[0], nums[1], nums[2]}, nil
}

// Setting names the sink sends.
const (
	settingLowCardinality   = "allow_experimental_low_cardinality_type"
	settingDDLTimeout       = "distributed_ddl_task_timeout"
	settingInsertDistrSync  = "insert_distributed_sync"
	settingReplaceFromEmpty = "allow_replace_partition_from_empty_source"
)

// SettingsFor returns the settings of every statement the sink sends to a
// server of version v: the LowCardinality switch to servers older than
// 19.3, the ON CLUSTER timeout on a cluster, nothing else.
func SettingsFor(v Version, cluster bool) clickhouse.Settings {
	s := clickhouse.Settings{}
	if !v.atLeast(19, 3) {
		s[settingLowCardinality] = 1
	}
	if cluster {
		// An ON CLUSTER statement waits this long for every node; one that
		// is down then times out (code 159) while the others have run it.
		s[settingDDLTimeout] = int(ddlTimeout.Seconds())
	}
	return s
}

// MoveSettings are the settings of a move (INSERT … SELECT from a staging
// table): synchronous into a Distributed table, so the rows are on their
// shards when the cursor moves. Every version knows the name (an alias
// since 23.x).
func MoveSettings() clickhouse.Settings {
	return clickhouse.Settings{settingInsertDistrSync: 1}
}

// ReplaceSettings are the settings of a REPLACE PARTITION: on servers from
// 26.6, allow_replace_partition_from_empty_source=1, so that a snapshot or
// an export with no rows empties its partition as on every earlier version
// (26.6 refuses an empty source by default, code 36). DROP PARTITION is no
// substitute: on 18.x it runs on the leader replica, and fails while that
// replica is down, where REPLACE PARTITION succeeds.
func ReplaceSettings(v Version) clickhouse.Settings {
	s := clickhouse.Settings{}
	if v.atLeast(26, 6) {
		s[settingReplaceFromEmpty] = 1
	}
	return s
}

// connSettings merges the sink's settings for a server into the DSN's:
// a setting the DSN gives is sent as the DSN gives it.
func connSettings(sink, dsn clickhouse.Settings) clickhouse.Settings {
	out := maps.Clone(sink)
	if out == nil {
		out = clickhouse.Settings{}
	}
	maps.Copy(out, dsn)
	return out
}
