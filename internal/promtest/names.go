package promtest

import (
	"regexp"
	"slices"
	"strings"
)

var (
	// nameMatcher is a selector's {__name__="…"} matcher.
	nameMatcher = regexp.MustCompile(`__name__\s*=\s*"((?:\\.|[^"\\])*)"`)
	// literals are strings and comments.
	literals = regexp.MustCompile(`"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|` + "`[^`]*`" + `|#[^\n]*`)
	// matchers are label matchers and range or subquery brackets.
	matchers = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	// grouping are label lists after by, without, on, ignoring,
	// group_left and group_right.
	grouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	// tokens are numbers and durations (skipped whole, so that the m of
	// 5m is no name) and identifiers.
	tokens = regexp.MustCompile(`[0-9][0-9A-Za-z_.]*|[A-Za-z_:][A-Za-z0-9_:]*`)
	// keywords are PromQL's words that are no metric names.
	keywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true,
		"on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true, "atan2": true}
)

// MetricNames returns the metric names a PromQL expression selects,
// sorted, without repeats: identifiers that are not functions or
// aggregations (followed by a parenthesis), keywords, label names (in
// braces or grouping clauses), numbers or durations, plus the value of an
// exact {__name__="…"} matcher. It reads names, it does not check syntax
// (promtool does).
func MetricNames(expr string) []string {
	var names []string
	for _, m := range nameMatcher.FindAllStringSubmatch(expr, -1) {
		names = append(names, m[1])
	}
	s := literals.ReplaceAllString(expr, `""`)
	s = matchers.ReplaceAllString(s, " ")
	s = grouping.ReplaceAllString(s, " ")
	for _, loc := range tokens.FindAllStringIndex(s, -1) {
		tok := s[loc[0]:loc[1]]
		if tok[0] >= '0' && tok[0] <= '9' || keywords[strings.ToLower(tok)] {
			continue
		}
		if rest := strings.TrimLeft(s[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue // a function or an aggregation
		}
		names = append(names, tok)
	}
	slices.Sort(names)
	return slices.Compact(names)
}
