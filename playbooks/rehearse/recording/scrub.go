package recording

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Principal is an access key that the sample incident knows by name.
type Principal struct {
	// Name is what the fixture calls the key: "leaked", "pipeline".
	Name string
	// AccessKeyID is the documented placeholder that the sample logs show
	// for it, such as AKIAIOSFODNN7EXAMPLE.
	AccessKeyID string
}

// ScrubOptions says how to turn a run's calls into fixture calls.
type ScrubOptions struct {
	// Simulation names the run: the fixture's simulation field.
	Simulation string
	// Keys maps the access key IDs that the run was given to principals.
	// A key that signs a call and is not here was created during the run:
	// it becomes principal "created-N" (N counting from 1 in order of first
	// use) with access key ID CreatedKeyID(N).
	Keys map[string]Principal
	// Secrets are strings that must not reach the fixture, such as the
	// secret access keys the run was given: each is replaced by
	// "<redacted>" wherever it appears.
	Secrets []string
	// Replace maps other literal strings to what the fixture shows in
	// their place, such as moto's account ID to 111122223333 or a run ID
	// to a fixed one.
	Replace map[string]string
	// IDs are resource IDs, such as instance IDs from moto, in the order
	// in which they should take placeholders, before those first seen in
	// the calls' parameters.
	IDs []string
}

// Redacted replaces a secret in the fixture.
const Redacted = "<redacted>"

// secretParams are request parameters whose value is a secret whatever
// it is.
var secretParams = regexp.MustCompile(`(?i)(secretaccesskey|sessiontoken|password|secretstring|secretbinary|privatekey)`)

// resourceID matches the IDs that EC2 and moto make up: a prefix, a dash,
// 8 or 17 hexadecimal digits.
var resourceID = regexp.MustCompile(`\b(i|vpc|subnet|sg|ami|eni|vol|igw|rtb|acl|snap|nat|eipalloc|lt|r)-([0-9a-f]{17}|[0-9a-f]{8})\b`)

// accessKeyID matches AWS access key IDs.
var accessKeyID = regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`)

// IDPlaceholder returns the n-th (from 0) placeholder for IDs with the
// prefix: i-1234567890abcdef0, i-1234567890abcdef1, ... in the style of
// AWS's documentation.
func IDPlaceholder(prefix string, n int) string {
	if n < 16 {
		return fmt.Sprintf("%s-1234567890abcde%02x", prefix, 0xf0+n)
	}
	return fmt.Sprintf("%s-0%016x", prefix, n)
}

// CreatedKeyID is the placeholder access key ID of the n-th (from 1) key
// that a run created: AKIAI44QH8DHBEXAMPLE (AWS's second documented example
// key) for the first, then AKIAEXAMPLECREATED02...
func CreatedKeyID(n int) string {
	if n == 1 {
		return "AKIAI44QH8DHBEXAMPLE"
	}
	return fmt.Sprintf("AKIAEXAMPLECREATED%02d", n)
}

// Scrub returns the calls as the fixture keeps them: the simulation set,
// each key ID replaced by its principal's placeholder and the principal's
// name in Principal, secrets redacted, literal replacements made, and
// every EC2-style resource ID replaced by a placeholder (IDPlaceholder)
// consistently across calls.
func Scrub(calls []Call, opts ScrubOptions) []Call {
	keyIDs := map[string]string{} // real key ID → placeholder
	names := map[string]string{}  // real key ID → principal name
	for id, p := range opts.Keys {
		keyIDs[id], names[id] = p.AccessKeyID, p.Name
	}
	created := 0
	for _, c := range calls {
		if _, ok := names[c.Principal]; !ok && c.Principal != "" {
			created++
			names[c.Principal] = fmt.Sprintf("created-%d", created)
			keyIDs[c.Principal] = CreatedKeyID(created)
		}
	}
	ids := map[string]string{}
	counts := map[string]int{}
	mapID := func(id string) string {
		if p, ok := ids[id]; ok {
			return p
		}
		prefix, _, _ := strings.Cut(id, "-")
		p := IDPlaceholder(prefix, counts[prefix])
		counts[prefix]++
		ids[id] = p
		return p
	}
	for _, id := range opts.IDs {
		mapID(id)
	}
	// Longest replacements first, so that one never cuts into another.
	var olds []string
	for old := range opts.Replace {
		olds = append(olds, old)
	}
	sort.Slice(olds, func(i, j int) bool {
		return len(olds[i]) > len(olds[j]) || len(olds[i]) == len(olds[j]) && olds[i] < olds[j]
	})
	text := func(s string) string {
		for _, secret := range opts.Secrets {
			if secret != "" {
				s = strings.ReplaceAll(s, secret, Redacted)
			}
		}
		for _, old := range olds {
			s = strings.ReplaceAll(s, old, opts.Replace[old])
		}
		s = accessKeyID.ReplaceAllStringFunc(s, func(k string) string {
			if p, ok := keyIDs[k]; ok {
				return p
			}
			return k
		})
		return resourceID.ReplaceAllStringFunc(s, mapID)
	}
	out := make([]Call, len(calls))
	for i, c := range calls {
		c.Simulation = opts.Simulation
		c.UserAgent = sortMetrics(text(c.UserAgent))
		c.Principal = names[c.Principal]
		if c.Params != nil {
			c.Params = scrubValue(c.Params, "", text).(map[string]any)
		}
		out[i] = c
	}
	return out
}

// scrubValue applies text to every string in v, and redacts the values of
// secret parameters.
func scrubValue(v any, key string, text func(string) string) any {
	if key != "" && secretParams.MatchString(key) {
		if s, ok := v.(string); !ok || s != "" {
			return Redacted
		}
	}
	switch v := v.(type) {
	case string:
		return text(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = scrubValue(x, k, text)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = scrubValue(x, key, text)
		}
		return out
	}
	return v
}

// uaMetrics matches the m/ section of an AWS SDK user agent: the feature
// IDs the SDK used, in an order that changes from run to run.
var uaMetrics = regexp.MustCompile(`\bm/([A-Za-z0-9,]+)`)

// sortMetrics sorts the feature IDs of a user agent's m/ section, so that a
// refreshed recording differs only where the calls do.
func sortMetrics(ua string) string {
	return uaMetrics.ReplaceAllStringFunc(ua, func(m string) string {
		ids := strings.Split(strings.TrimPrefix(m, "m/"), ",")
		sort.Strings(ids)
		return "m/" + strings.Join(ids, ",")
	})
}
