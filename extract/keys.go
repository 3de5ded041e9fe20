package extract

import (
	"fmt"
	"strings"

	"github.com/salesnav-etl/salesnav-etl/extract/restli"
)

// AssociationKey identifies a CRM record for a profile association lookup.
type AssociationKey struct {
	InstanceID string
	Partner    string
	RecordID   string
}

// String returns the key's documented Rest.li 2.0 form,
// "(instanceId:X,partner:Y,recordId:Z)", values escaped and fields sorted by
// name as Rest.li does. It is also the key of the batch answer's maps.
func (k AssociationKey) String() string {
	return restli.EncodeRecord([]restli.Field{
		{Name: "instanceId", Value: k.InstanceID},
		{Name: "partner", Value: k.Partner},
		{Name: "recordId", Value: k.RecordID},
	})
}

// ParseAssociationKey accepts both forms of a key: the documented
// "(instanceId:X,partner:Y,recordId:Z)" (fields in any order) and the OpenAPI
// file's positional "X,Y,Z" or "(X,Y,Z)", values Rest.li-escaped.
func ParseAssociationKey(s string) (AssociationKey, error) {
	var k AssociationKey
	inner := strings.TrimSuffix(strings.TrimPrefix(s, "("), ")")
	if strings.Contains(inner, ":") {
		fields, err := restli.DecodeRecord("(" + inner + ")")
		if err != nil {
			return k, fmt.Errorf("parsing association key: %w", err)
		}
		seen := map[string]bool{}
		for _, f := range fields {
			if seen[f.Name] {
				return k, fmt.Errorf("parsing association key %q: %w: field %q twice", s, restli.ErrSyntax, f.Name)
			}
			seen[f.Name] = true
			switch f.Name {
			case "instanceId":
				k.InstanceID = f.Value
			case "partner":
				k.Partner = f.Value
			case "recordId":
				k.RecordID = f.Value
			default:
				return k, fmt.Errorf("parsing association key %q: %w: unknown field %q", s, restli.ErrSyntax, f.Name)
			}
		}
		if len(seen) != 3 {
			return k, fmt.Errorf("parsing association key %q: %w: want instanceId, partner and recordId", s, restli.ErrSyntax)
		}
		return k, nil
	}
	parts := strings.Split(inner, ",")
	if len(parts) != 3 {
		return k, fmt.Errorf("parsing association key %q: %w: want 3 comma-separated values", s, restli.ErrSyntax)
	}
	vals := make([]string, 3)
	for i, p := range parts {
		if p == "" || strings.ContainsAny(p, "()") {
			return k, fmt.Errorf("parsing association key %q: %w: bad value %q", s, restli.ErrSyntax, p)
		}
		v, err := restli.UnescapeValue(p)
		if err != nil {
			return k, fmt.Errorf("parsing association key: %w", err)
		}
		vals[i] = v
	}
	return AssociationKey{InstanceID: vals[0], Partner: vals[1], RecordID: vals[2]}, nil
}

// EncodeAssociationKeys returns the value of the batch call's ids parameter,
// "List((instanceId:X,partner:Y,recordId:Z),...)". It goes into the query
// string as it is: the List( ( , ) syntax is not URL-encoded, the values
// inside are.
func EncodeAssociationKeys(keys []AssociationKey) string {
	items := make([]string, len(keys))
	for i, k := range keys {
		items[i] = k.String()
	}
	return restli.EncodeList(items)
}

// DecodeAssociationKeys parses the ids parameter of a batch call.
func DecodeAssociationKeys(s string) ([]AssociationKey, error) {
	items, err := restli.DecodeList(s)
	if err != nil {
		return nil, fmt.Errorf("parsing ids: %w", err)
	}
	keys := make([]AssociationKey, len(items))
	for i, it := range items {
		if keys[i], err = ParseAssociationKey(it); err != nil {
			return nil, err
		}
	}
	return keys, nil
}
