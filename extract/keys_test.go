package extract

import (
	"errors"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/extract/restli"
)

func TestAssociationKeyForms(t *testing.T) {
	tricky := AssociationKey{InstanceID: "sf,instance:(1)", Partner: "sales force", RecordID: "003'x%"}
	tests := []struct {
		in   string
		want AssociationKey
	}{
		{"(instanceId:sf-1,partner:salesforce,recordId:c-1)", AssociationKey{"sf-1", "salesforce", "c-1"}},
		{"(recordId:c-1,instanceId:sf-1,partner:salesforce)", AssociationKey{"sf-1", "salesforce", "c-1"}},
		{"sf-1,salesforce,c-1", AssociationKey{"sf-1", "salesforce", "c-1"}},
		{"(sf-instance-001,salesforce,contact-12345)", AssociationKey{"sf-instance-001", "salesforce", "contact-12345"}},
		{tricky.String(), tricky},
	}
	for _, tt := range tests {
		got, err := ParseAssociationKey(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseAssociationKey(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	if got := (AssociationKey{"sf-1", "salesforce", "c-1"}).String(); got != "(instanceId:sf-1,partner:salesforce,recordId:c-1)" {
		t.Errorf("String = %q", got)
	}
	if got := tricky.String(); got != "(instanceId:sf%2Cinstance%3A%281%29,partner:sales%20force,recordId:003%27x%25)" {
		t.Errorf("tricky String = %q", got)
	}
	for _, bad := range []string{"", "a,b", "(instanceId:a,partner:b)", "(instanceId:a,partner:b,recordId:c,extra:d)",
		"(instanceId:a,instanceId:b,recordId:c)", "a,b,c,d", "(a,,c)"} {
		if _, err := ParseAssociationKey(bad); !errors.Is(err, restli.ErrSyntax) {
			t.Errorf("ParseAssociationKey(%q) error = %v, want ErrSyntax", bad, err)
		}
	}
}

func TestAssociationKeysListRoundTrip(t *testing.T) {
	keys := []AssociationKey{{"i1", "salesforce", "r1"}, {"i,2", "dyn(amics)", "r:2"}}
	enc := EncodeAssociationKeys(keys)
	want := "List((instanceId:i1,partner:salesforce,recordId:r1),(instanceId:i%2C2,partner:dyn%28amics%29,recordId:r%3A2))"
	if enc != want {
		t.Fatalf("EncodeAssociationKeys = %q, want %q", enc, want)
	}
	back, err := DecodeAssociationKeys(enc)
	if err != nil || len(back) != 2 || back[0] != keys[0] || back[1] != keys[1] {
		t.Fatalf("DecodeAssociationKeys = %+v, %v", back, err)
	}
}
