package cli

import (
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

// resolveGuards resolves the bounds that protect a run from what it cannot
// trust (issue 17): the download idle timeout, when keys without a profile
// match are asked again, and an end day that has not come yet.
func (e *Env) resolveGuards(c *Config, now time.Time, bad func(*string, string, ...any)) {
	c.API.DownloadIdleTimeout = parsed[time.Duration](e, &e.DownloadIdle, bad)
	c.Pipeline.AssociationRecheck = time.Duration(parsed[int](e, &e.AssocRecheck, bad)) * 24 * time.Hour
	if c.Pipeline.AssociationRecheck == 0 {
		c.Pipeline.AssociationRecheck = -1 // every run
	}
	if end, err := time.Parse(time.DateOnly, e.End); err == nil && end.After(pipeline.Day(now)) {
		bad(&e.End, "%s is after today (%s, UTC): LinkedIn has no data for days to come", e.End, pipeline.Day(now).Format(time.DateOnly))
	}
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// splitURNs splits a list of URNs on commas and white space outside
// parentheses: urn:li:crmInstance:(SFDC,00D1),urn:li:crmInstance:(SFDC,00D2).
func splitURNs(s string) []string {
	var out []string
	depth, start := 0, 0
	flush := func(end int) {
		if p := strings.TrimSpace(s[start:end]); p != "" {
			out = append(out, p)
		}
	}
	for i, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')':
			depth = max(0, depth-1)
		case depth == 0 && (r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n'):
			flush(i)
			start = i + 1
		}
	}
	flush(len(s))
	return out
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// redactURL hides the password of a URL's user:password@ part.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if i := strings.LastIndexByte(raw, '@'); i >= 0 {
			return "xxxxx@" + raw[i+1:]
		}
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
