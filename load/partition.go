package load

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

var (
	safeID      = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	crmInstance = regexp.MustCompile(`^urn:li:crmInstance:\(([A-Za-z0-9-]{1,32}),([A-Za-z0-9-]{1,32})\)$`)
)

// PartitionID returns a contract URN's id for a Hive partition directory
// (contract=<id>): the URN's last segment when it is made of letters,
// digits, '-' and '_' only (urn:li:salesContract:1001 → 1001), otherwise "h"
// and 16 hex digits of its SHA-256. No URN can yield a path separator, "."
// or "..", so no URN escapes the output directory. A CRM instance
// urn:li:crmInstance:(SFDC,00D5e000000abc) becomes SFDC_00D5e000000abc when
// both parts are letters, digits and '-'.
func PartitionID(urn string) string {
	if m := crmInstance.FindStringSubmatch(urn); m != nil {
		return m[1] + "_" + m[2]
	}
	last := urn[strings.LastIndexByte(urn, ':')+1:]
	if safeID.MatchString(last) {
		return last
	}
	sum := sha256.Sum256([]byte(urn))
	return "h" + hex.EncodeToString(sum[:8])
}
