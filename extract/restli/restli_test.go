package restli

import (
	"errors"
	"slices"
	"testing"
)

func TestEscapeValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc-123_x.y~z", "abc-123_x.y~z"},
		{"urn:li:salesContract:12345", "urn%3Ali%3AsalesContract%3A12345"},
		{"urn:li:crmInstance:(SFDC,00D5e000001)", "urn%3Ali%3AcrmInstance%3A%28SFDC%2C00D5e000001%29"},
		{"a b+c", "a%20b%2Bc"},
		{"100%", "100%25"},
		{"it's", "it%27s"},
		{"é", "%C3%A9"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := EscapeValue(tt.in); got != tt.want {
			t.Errorf("EscapeValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
		back, err := UnescapeValue(tt.want)
		if err != nil || back != tt.in {
			t.Errorf("UnescapeValue(%q) = %q, %v; want %q", tt.want, back, err, tt.in)
		}
	}
}

func TestRecordRoundTrip(t *testing.T) {
	tests := []struct {
		fields []Field
		want   string
	}{
		{[]Field{{"instanceId", "sf-1"}, {"partner", "salesforce"}, {"recordId", "003ABC"}},
			"(instanceId:sf-1,partner:salesforce,recordId:003ABC)"},
		{[]Field{{"instanceId", "a,b"}, {"partner", "(p)"}, {"recordId", "x:y"}},
			"(instanceId:a%2Cb,partner:%28p%29,recordId:x%3Ay)"},
		{[]Field{{"k", "it's 100%"}}, "(k:it%27s%20100%25)"},
	}
	for _, tt := range tests {
		got := EncodeRecord(tt.fields)
		if got != tt.want {
			t.Errorf("EncodeRecord(%v) = %q, want %q", tt.fields, got, tt.want)
		}
		back, err := DecodeRecord(got)
		if err != nil || !slices.Equal(back, tt.fields) {
			t.Errorf("DecodeRecord(%q) = %v, %v; want %v", got, back, err, tt.fields)
		}
	}
}

func TestDecodeRecordErrors(t *testing.T) {
	for _, in := range []string{"", "a:b", "(a:b", "(a:b,)", "(ab)", "(a:b(c))", "(:x)", "(a:%zz)"} {
		if _, err := DecodeRecord(in); !errors.Is(err, ErrSyntax) {
			t.Errorf("DecodeRecord(%q) error = %v, want ErrSyntax", in, err)
		}
	}
}

func TestList(t *testing.T) {
	items := []string{"(a:1,b:2)", "(a:3,b:4)"}
	enc := EncodeList(items)
	if enc != "List((a:1,b:2),(a:3,b:4))" {
		t.Fatalf("EncodeList = %q", enc)
	}
	got, err := DecodeList(enc)
	if err != nil || !slices.Equal(got, items) {
		t.Fatalf("DecodeList = %v, %v", got, err)
	}
	if got, err := DecodeList("List()"); err != nil || len(got) != 0 {
		t.Errorf("DecodeList(List()) = %v, %v", got, err)
	}
	for _, bad := range []string{"List((a:1)", "(a:1)", "List((a:1),)", "List((a:1)))"} {
		if _, err := DecodeList(bad); !errors.Is(err, ErrSyntax) {
			t.Errorf("DecodeList(%q) error = %v, want ErrSyntax", bad, err)
		}
	}
}

func TestPathEscapeKey(t *testing.T) {
	key := EncodeRecord([]Field{{"instanceId", "a,b"}, {"partner", "p"}, {"recordId", "r"}})
	got := PathEscapeKey(key)
	want := "%28instanceId%3Aa%252Cb%2Cpartner%3Ap%2CrecordId%3Ar%29"
	if got != want {
		t.Fatalf("PathEscapeKey = %q, want %q", got, want)
	}
}
