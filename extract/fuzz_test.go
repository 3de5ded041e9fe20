package extract_test

import (
	"strings"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/extract"
)

// Any key survives the Rest.li encoding, alone and in a List, in both
// directions; decoding arbitrary text never panics.
func FuzzAssociationKeys(f *testing.F) {
	f.Add("00D5e000000abc", "SFDC", "003abc")
	f.Add("sf,1:(x)", "sales force", "a,b(c):d %41")
	f.Add("", "(", ")")
	f.Add("List(", "%", "ü\x00")
	f.Fuzz(func(t *testing.T, instance, partner, record string) {
		k := extract.AssociationKey{InstanceID: instance, Partner: partner, RecordID: record}
		back, err := extract.ParseAssociationKey(k.String())
		if err != nil || back != k {
			t.Fatalf("%q → %q → %+v, %v", k, k.String(), back, err)
		}
		list, err := extract.DecodeAssociationKeys(extract.EncodeAssociationKeys([]extract.AssociationKey{k, k}))
		if err != nil || len(list) != 2 || list[0] != k || list[1] != k {
			t.Fatalf("List of %+v → %+v, %v", k, list, err)
		}
		// Arbitrary input: an error or a key, never a panic.
		extract.ParseAssociationKey(instance + partner + record)
		extract.DecodeAssociationKeys(strings.Join([]string{instance, partner, record}, ","))
	})
}
