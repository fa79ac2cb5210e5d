package analytics

import (
	"regexp"
	"testing"
)

func TestNamedQueryLogicalIDsAreStableAndDistinct(t *testing.T) {
	a := NamedQuery{Name: "crypto_mining/01_flows"}.LogicalID()
	b := NamedQuery{Name: "crypto_mining/02_dns"}.LogicalID()
	if a != "QueryCryptoMining01Flows" || !regexp.MustCompile(`^Query[A-Za-z0-9]+$`).MatchString(b) || a == b {
		t.Errorf("logical IDs %s, %s", a, b)
	}
}
