// Package restli encodes and decodes the Rest.li 2.0 protocol's structured
// values as LinkedIn's Sales Navigator API uses them: URNs in query strings,
// records such as (instanceId:X,partner:Y,recordId:Z), and List(...) of them.
//
// Everything here is pure string work with no I/O.
//
// Under Rest.li 2.0 the syntax characters of a structured value ( ( ) , : )
// stay literal while every reserved character inside a value is
// percent-encoded, so a value may itself contain commas, parentheses or
// colons. A value escaped with [EscapeValue] contains only unreserved URL
// characters and percent escapes, which makes it safe both inside a
// structured value and as a query-string component.
package restli

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrSyntax is wrapped by every decoding error of this package.
var ErrSyntax = errors.New("rest.li syntax error")

const upperhex = "0123456789ABCDEF"

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// EscapeValue percent-encodes every byte of s except RFC 3986 unreserved
// characters (A-Z a-z 0-9 - . _ ~). Spaces become %20, never '+'.
func EscapeValue(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperhex[c>>4])
		b.WriteByte(upperhex[c&15])
	}
	return b.String()
}

// UnescapeValue reverses [EscapeValue]. It also accepts values in which safe
// characters were left unescaped. A '+' stays a '+'.
func UnescapeValue(s string) (string, error) {
	v, err := url.PathUnescape(s)
	if err != nil {
		return "", fmt.Errorf("%w: unescaping %q: %v", ErrSyntax, s, err)
	}
	return v, nil
}

// Field is one name:value pair of a Rest.li record, unescaped.
type Field struct {
	Name, Value string
}

// EncodeRecord returns the Rest.li 2.0 form of a record, "(name:value,...)",
// with names and values escaped and fields in the order given. Rest.li sorts
// key fields by name; callers pass them sorted.
func EncodeRecord(fields []Field) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(EscapeValue(f.Name))
		b.WriteByte(':')
		b.WriteString(EscapeValue(f.Value))
	}
	b.WriteByte(')')
	return b.String()
}

// DecodeRecord parses "(name:value,...)" as written by [EncodeRecord] and
// returns its fields unescaped, in order.
func DecodeRecord(s string) ([]Field, error) {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return nil, fmt.Errorf("%w: record %q is not enclosed in parentheses", ErrSyntax, s)
	}
	body := s[1 : len(s)-1]
	if body == "" {
		return nil, nil
	}
	parts, err := splitTop(body)
	if err != nil {
		return nil, fmt.Errorf("%w in record %q", err, s)
	}
	fields := make([]Field, 0, len(parts))
	for _, p := range parts {
		name, value, ok := strings.Cut(p, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("%w: field %q of record %q has no name:value form", ErrSyntax, p, s)
		}
		if strings.ContainsAny(value, "():,") {
			return nil, fmt.Errorf("%w: value %q of record %q holds unescaped syntax characters", ErrSyntax, value, s)
		}
		n, err := UnescapeValue(name)
		if err != nil {
			return nil, err
		}
		v, err := UnescapeValue(value)
		if err != nil {
			return nil, err
		}
		fields = append(fields, Field{Name: n, Value: v})
	}
	return fields, nil
}

// EncodeList returns "List(item,item,...)". Items must already be encoded
// Rest.li values (escaped strings or records).
func EncodeList(items []string) string {
	return "List(" + strings.Join(items, ",") + ")"
}

// DecodeList parses "List(...)" into its top-level items, still encoded.
func DecodeList(s string) ([]string, error) {
	if !strings.HasPrefix(s, "List(") || !strings.HasSuffix(s, ")") {
		return nil, fmt.Errorf("%w: %q is not a List(...)", ErrSyntax, s)
	}
	body := s[len("List(") : len(s)-1]
	if body == "" {
		return nil, nil
	}
	items, err := splitTop(body)
	if err != nil {
		return nil, fmt.Errorf("%w in list %q", err, s)
	}
	return items, nil
}

// splitTop splits s on commas that are not inside parentheses.
func splitTop(s string) ([]string, error) {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("%w: unbalanced ')' at offset %d", ErrSyntax, i)
			}
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("%w: unbalanced '('", ErrSyntax)
	}
	out = append(out, s[start:])
	for _, p := range out {
		if p == "" {
			return nil, fmt.Errorf("%w: empty item", ErrSyntax)
		}
	}
	return out, nil
}

// QueryEscapeURN encodes a URN for use as a query-string value, as the API
// documents for contract and crmInstanceId: every reserved character,
// including ':' '(' ',' ')', is percent-encoded.
func QueryEscapeURN(urn string) string { return EscapeValue(urn) }

// PathEscapeKey fully URL-encodes an encoded Rest.li key (as produced by
// [EncodeRecord]) for use as one path segment, as the API documents for
// GET /salesNavigatorProfileAssociations/{key}.
func PathEscapeKey(encodedKey string) string { return EscapeValue(encodedKey) }
