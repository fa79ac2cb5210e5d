package analytics

import (
	"regexp"
	"strings"
	"testing"
)

func TestNamedQueryLogicalIDsAreStableAndDistinct(t *testing.T) {
	a := NamedQuery{Name: "crypto_mining/01_flows"}.LogicalID()
	b := NamedQuery{Name: "crypto_mining/02_dns"}.LogicalID()
	if a != "QueryCryptoMining01Flows" || !regexp.MustCompile(`^Query[A-Za-z0-9]+$`).MatchString(b) || a == b {
		t.Errorf("logical IDs %s, %s", a, b)
	}
}

func TestCheckQueriesNamesEveryQueryAthenaWouldRefuse(t *testing.T) {
	ok := NamedQuery{Name: "a/01_ok", Description: strings.Repeat("d", MaxDescriptionBytes), SQL: strings.Repeat("x", MaxQueryBytes)}
	checkQueries("Analytics", []NamedQuery{ok})
	defer func() {
		msg, _ := recover().(string)
		for _, want := range []string{
			"analytics Analytics: Queries:",
			"query a/02_long: Description is 1025 bytes, Athena takes at most 1024",
			"query a/03_big: SQL is 262145 bytes, Athena takes at most 262144",
			"query a/04_empty: SQL is empty",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("panic %q lacks %q", msg, want)
			}
		}
	}()
	checkQueries("Analytics", []NamedQuery{
		ok,
		{Name: "a/02_long", Description: strings.Repeat("d", MaxDescriptionBytes+1), SQL: "SELECT 1"},
		{Name: "a/03_big", SQL: strings.Repeat("x", MaxQueryBytes+1)},
		{Name: "a/04_empty", SQL: " \n"},
	})
}
