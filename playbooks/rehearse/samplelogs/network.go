package samplelogs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

// The workshop instance and the VPC's network facts.
const (
	workshopIP  = "192.168.12.34"
	workshopENI = "eni-0a1b2c3d4e5f67890"
	flowLogID   = "fl-1234567890abcdef0"
	zoneID      = "use1-az1"
	repoIP      = "192.0.2.130" // the Amazon Linux package repository (S3)
)

// ssmEndpoints are the AWS endpoints the SSM agent talks to, with their
// addresses.
var ssmEndpoints = []struct{ name, ip string }{
	{"ssm." + Region + ".amazonaws.com.", "192.0.2.100"},
	{"ec2messages." + Region + ".amazonaws.com.", "192.0.2.101"},
	{"ssmmessages." + Region + ".amazonaws.com.", "192.0.2.102"},
}

const repoName = "al2023-repos-" + Region + "-de612dc2.s3.dualstack." + Region + ".amazonaws.com."

// flow is one VPC Flow Logs record, by format field name.
type flow map[string]string

// lookup is one Route 53 Resolver query log record, in AWS's field order.
type lookup struct {
	Version        string   `json:"version"`
	AccountID      string   `json:"account_id"`
	Region         string   `json:"region"`
	VPCID          string   `json:"vpc_id"`
	QueryTimestamp string   `json:"query_timestamp"`
	QueryName      string   `json:"query_name"`
	QueryType      string   `json:"query_type"`
	QueryClass     string   `json:"query_class"`
	Rcode          string   `json:"rcode"`
	Answers        []answer `json:"answers"`
	SrcAddr        string   `json:"srcaddr"`
	SrcPort        string   `json:"srcport"`
	Transport      string   `json:"transport"`
	SrcIDs         srcIDs   `json:"srcids"`

	time time.Time
}

type answer struct {
	Rdata string `json:"Rdata"`
	Type  string `json:"Type"`
	Class string `json:"Class"`
}

type srcIDs struct {
	Instance string `json:"instance"`
}

// machine is an instance as the network sees it.
type machine struct {
	id, eni, ip, subnet string
	from, until         time.Time
	isolatedAt          time.Time // zero: never
}

// network makes the flow and DNS records of the workshop instance and the
// launched instances.
func (g *generator) network(instances []launched) ([]flow, []lookup, error) {
	r := g.rng("network")
	var flows []flow
	var dns []lookup
	workshop := machine{id: WorkshopInstance, eni: workshopENI, ip: workshopIP, subnet: publicSubnets[0], from: start, until: end}

	// conversation adds the two records of a TCP connection that h opens
	// (egress) or accepts (ingress), or the one record of a rejected
	// packet train.
	conversation := func(h machine, t time.Time, egress bool, remote string, remotePort, localPort int, bytesOut, bytesIn int64, blocked bool) {
		action := "ACCEPT"
		if blocked || !h.isolatedAt.IsZero() && !t.Before(h.isolatedAt) {
			action = "REJECT"
		}
		t0 := t.Truncate(time.Minute)
		rec := func(src, dst string, sport, dport int, b int64, dir string, flags int) flow {
			f := flow{
				"version": "5", "account-id": Account, "interface-id": h.eni, "srcaddr": src, "dstaddr": dst,
				"srcport": strconv.Itoa(sport), "dstport": strconv.Itoa(dport), "protocol": "6",
				"packets": strconv.FormatInt(max(1, b/1100), 10), "bytes": strconv.FormatInt(b, 10),
				"start": strconv.FormatInt(t0.Unix(), 10), "end": strconv.FormatInt(t0.Add(time.Minute).Unix(), 10),
				"action": action, "log-status": "OK", "vpc-id": VPCID, "subnet-id": h.subnet, "instance-id": h.id,
				"tcp-flags": strconv.Itoa(flags), "type": "IPv4", "pkt-srcaddr": src, "pkt-dstaddr": dst,
				"region": Region, "az-id": zoneID, "flow-direction": dir,
			}
			if dir == "egress" {
				f["traffic-path"] = "8" // through the internet gateway
			}
			return f
		}
		switch {
		case egress && action == "ACCEPT":
			flows = append(flows, rec(h.ip, remote, localPort, remotePort, bytesOut, "egress", 3), rec(remote, h.ip, remotePort, localPort, bytesIn, "ingress", 19))
		case egress:
			flows = append(flows, rec(h.ip, remote, localPort, remotePort, 60*3, "egress", 2))
		case action == "ACCEPT":
			flows = append(flows, rec(remote, h.ip, remotePort, localPort, bytesIn, "ingress", 3), rec(h.ip, remote, localPort, remotePort, bytesOut, "egress", 19))
		default:
			flows = append(flows, rec(remote, h.ip, remotePort, localPort, 44*2, "ingress", 2))
		}
	}
	ephemeral := func() int { return 32768 + r.IntN(28232) }
	query := func(h machine, t time.Time, name, typ, rcode string, answers []answer) {
		if answers == nil {
			answers = []answer{}
		}
		dns = append(dns, lookup{
			Version: "1.100000", AccountID: Account, Region: Region, VPCID: VPCID,
			QueryTimestamp: t.UTC().Format(time.RFC3339), QueryName: name, QueryType: typ, QueryClass: "IN",
			Rcode: rcode, Answers: answers, SrcAddr: h.ip, SrcPort: strconv.Itoa(ephemeral()), Transport: "UDP",
			SrcIDs: srcIDs{Instance: h.id}, time: t,
		})
	}
	resolveA := func(h machine, t time.Time, name, ip string) {
		query(h, t, name, "A", "NOERROR", []answer{{ip, "A", "IN"}})
		query(h, t, name, "AAAA", "NOERROR", nil)
	}

	// Every instance: the package repository hourly (dnf-makecache), SSH
	// scans from the internet.
	routine := func(h machine, ssm, sshOpen bool) {
		for t := h.from.Truncate(time.Hour).Add(17*time.Minute + time.Duration(r.IntN(40))*time.Second); t.Before(h.until); t = t.Add(time.Hour) {
			if t.Before(h.from) {
				continue
			}
			resolveA(h, t, repoName, repoIP)
			conversation(h, t.Add(time.Second), true, repoIP, 443, ephemeral(), 1800+int64(r.IntN(600)), 24000+int64(r.IntN(9000)), false)
		}
		for t := h.from.Add(time.Duration(7+r.IntN(20)) * time.Minute); t.Before(h.until); t = t.Add(time.Duration(15+r.IntN(30)) * time.Minute) {
			scanner := fmt.Sprintf("203.0.113.%d", 150+r.IntN(100))
			// The workshop instance's security group lets SSH in from
			// anywhere; a VPC's default security group does not.
			conversation(h, t, false, scanner, ephemeral(), 22, 2300+int64(r.IntN(800)), 1900+int64(r.IntN(700)), !sshOpen)
		}
		if !ssm {
			return
		}
		for t := h.from.Add(time.Duration(r.IntN(300)) * time.Second); t.Before(h.until); t = t.Add(5 * time.Minute) {
			ep := ssmEndpoints[r.IntN(len(ssmEndpoints))]
			resolveA(h, t, ep.name, ep.ip)
			conversation(h, t.Add(time.Second), true, ep.ip, 443, ephemeral(), 3000+int64(r.IntN(2000)), 5000+int64(r.IntN(3000)), false)
		}
	}
	routine(workshop, true, true)

	for _, in := range instances {
		h := machine{id: in.id, eni: in.eni, ip: in.privateIP, subnet: in.subnet,
			from: in.at.Add(40 * time.Second), until: TerminateAt, isolatedAt: ContainedAt}
		routine(h, false, false)
		// cloud-init: the user data installs cronie from the repository.
		boot := h.from.Add(20 * time.Second)
		resolveA(h, boot, repoName, repoIP)
		conversation(h, boot.Add(time.Second), true, repoIP, 443, ephemeral(), 41000, 2100000+int64(r.IntN(300000)), false)
		b, err := parseBeacon(in.userData)
		if err != nil {
			return nil, nil, fmt.Errorf("instance %s: %w; teach samplelogs.parseBeacon the new shape", in.id, err)
		}
		// A connect and close, no payload: SYN, ACK, FIN, ACK out; SYN-ACK
		// and FIN-ACK back. After isolation, the SYN and its retries.
		probe := func(h machine, t time.Time, address string, port int) {
			conversation(h, t, true, address, port, ephemeral(), 4*52, 2*52, false)
		}
		b.lookups(r, h, boot.Add(40*time.Second), query, probe)
	}
	sort.SliceStable(dns, func(i, j int) bool { return dns[i].time.Before(dns[j].time) })
	sort.SliceStable(flows, func(i, j int) bool { return flows[i]["start"] < flows[j]["start"] })
	return flows, dns, nil
}

// beacon is what the mining user data resolves: each run does rounds of
// lookups of the pool names and of random names, sleep seconds apart.
type beacon struct {
	pools       []string
	randomCount int
	labels      []int  // hex digits of each random label
	suffix      string // the domain under the random labels
	rounds      int
	sleep       time.Duration
	everyMinute bool
	// ports are the Stratum ports of the connection attempts, pool i on
	// ports[i % len(ports)], in the first round of each run; none when the
	// beacon does not connect.
	ports []int
}

var (
	poolsArray  = regexp.MustCompile(`(?s)\bpools=\(\s*(.*?)\)`)
	randomName  = regexp.MustCompile(`resolve "((?:\$\(random_label [0-9]+\)\.)+)([a-z0-9.-]+)"`)
	randomLabel = regexp.MustCompile(`random_label ([0-9]+)`)
	forList     = regexp.MustCompile(`for (\w+) in ([0-9 ]+); do`)
	sleepFor    = regexp.MustCompile(`\bsleep ([0-9]+)`)
	portsArray  = regexp.MustCompile(`(?m)^stratum_ports=\(([0-9 ]+)\)`)
	connectOn   = regexp.MustCompile(`(?m)^connect_to_pools=(true|false)$`)
)

// parseBeacon reads the beacon from the mining user data
// (scripts/crypto-mining-user-data.sh as RunInstances sent it). It fails,
// naming what it missed, when the script's shape changed.
func parseBeacon(userData string) (*beacon, error) {
	b := &beacon{rounds: 1}
	m := poolsArray.FindStringSubmatch(userData)
	if m == nil {
		return nil, fmt.Errorf("the mining user data has no pools=( ... ) list")
	}
	b.pools = strings.Fields(m[1])
	rm := randomName.FindStringSubmatch(userData)
	if rm == nil {
		return nil, fmt.Errorf(`the mining user data resolves no "$(random_label N)...DOMAIN" name`)
	}
	for _, l := range randomLabel.FindAllStringSubmatch(rm[1], -1) {
		n, _ := strconv.Atoi(l[1])
		b.labels = append(b.labels, n/2*2)
	}
	b.suffix = rm[2]
	for _, loop := range forList.FindAllStringSubmatch(userData, -1) {
		n := len(strings.Fields(loop[2]))
		switch loop[1] {
		case "round":
			b.rounds = n
		case "_":
			b.randomCount = n
		}
	}
	if b.randomCount == 0 {
		return nil, fmt.Errorf("the mining user data has no `for _ in 1 2 ...` loop of random names")
	}
	if s := sleepFor.FindStringSubmatch(userData); s != nil {
		n, _ := strconv.Atoi(s[1])
		b.sleep = time.Duration(n) * time.Second
	}
	switch on := connectOn.FindStringSubmatch(userData); {
	case on == nil:
		return nil, fmt.Errorf("the mining user data has no connect_to_pools=true|false setting")
	case on[1] == "true":
		pm := portsArray.FindStringSubmatch(userData)
		if pm == nil || !strings.Contains(userData, `probe "$address" "${stratum_ports[i % ${#stratum_ports[@]}]}"`) {
			return nil, fmt.Errorf("the mining user data connects to the pools, but not on stratum_ports=( ... ) as probe \"$address\" \"${stratum_ports[i %% ...]}\"")
		}
		for _, f := range strings.Fields(pm[1]) {
			n, _ := strconv.Atoi(f)
			b.ports = append(b.ports, n)
		}
	}
	b.everyMinute = strings.Contains(userData, "* * * * *") || strings.Contains(userData, "OnUnitActiveSec=60")
	if !b.everyMinute {
		return nil, fmt.Errorf("the mining user data runs its beacon neither from cron every minute nor from a one-minute timer")
	}
	return b, nil
}

// lookups are the beacon's queries from first until the host goes away:
// a first run at first, then one a minute. Each name is looked up as A and
// AAAA (getent ahosts); pools resolve to 203.0.113.0/24 or do not exist
// any more, random names do not exist. In the first round of each run, a
// beacon with ports connects to the first address of each pool that
// resolved (probe).
func (b *beacon) lookups(r *rand.Rand, h machine, first time.Time,
	query func(h machine, t time.Time, name, typ, rcode string, answers []answer),
	probe func(h machine, t time.Time, address string, port int)) {
	answersFor := map[string][]answer{}
	for i, p := range b.pools {
		if fnvHash(p)%5 == 0 {
			answersFor[p] = nil // a pool that is gone: NXDOMAIN
			continue
		}
		answersFor[p] = []answer{{fmt.Sprintf("203.0.113.%d", 10+i*3), "A", "IN"}}
		if fnvHash(p)%3 == 0 {
			answersFor[p] = append(answersFor[p], answer{fmt.Sprintf("203.0.113.%d", 11+i*3), "A", "IN"})
		}
	}
	runs := []time.Time{first}
	for t := first.Truncate(time.Minute).Add(time.Minute); t.Before(h.until); t = t.Add(time.Minute) {
		runs = append(runs, t.Add(time.Duration(1+r.IntN(3))*time.Second))
	}
	for _, run := range runs {
		for round := 0; round < b.rounds; round++ {
			t := run.Add(time.Duration(round) * b.sleep)
			if !t.Before(h.until) {
				break
			}
			for i, p := range b.pools {
				name := p + "."
				if a := answersFor[p]; a != nil {
					query(h, t, name, "A", "NOERROR", a)
					query(h, t, name, "AAAA", "NOERROR", nil)
					if round == 0 && len(b.ports) > 0 {
						probe(h, t, a[0].Rdata, b.ports[i%len(b.ports)])
					}
				} else {
					query(h, t, name, "A", "NXDOMAIN", nil)
					query(h, t, name, "AAAA", "NXDOMAIN", nil)
				}
			}
			t = t.Add(time.Second)
			for i := 0; i < b.randomCount; i++ {
				var labels []string
				for _, n := range b.labels {
					labels = append(labels, hex(r, n))
				}
				name := strings.Join(labels, ".") + "." + b.suffix + "."
				query(h, t, name, "A", "NXDOMAIN", nil)
				query(h, t, name, "AAAA", "NXDOMAIN", nil)
			}
		}
	}
}

// writeCloudTrail writes the records in files of five minutes, as
// CloudTrail delivers them.
func (g *generator) writeCloudTrail(recs []*record) error {
	r := g.rng("cloudtrail-files")
	return groupWrite(len(recs), func(i int) time.Time { return recs[i].time }, 5*time.Minute,
		func(w time.Time, from, to int) error {
			body := struct {
				Records []*record `json:"Records"`
			}{recs[from:to]}
			// As CloudTrail writes it: "<" as is, not \u003c.
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(body); err != nil {
				return err
			}
			key := fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%s.json.gz",
				Account, Region, dayPath(w), Account, Region, stamp(w.Add(5*time.Minute)), alnum(r, 16))
			g.sum.Files["cloudtrail"]++
			g.sum.Records["cloudtrail"] += to - from
			return g.write(key, b.Bytes())
		})
}

// writeFlows writes the flow records in files of five minutes with the
// format's header line, fields in logschema.VPCFlowLogFields order.
func (g *generator) writeFlows(flows []flow) error {
	r := g.rng("flow-files")
	at := func(i int) time.Time {
		n, _ := strconv.ParseInt(flows[i]["start"], 10, 64)
		return time.Unix(n, 0).UTC()
	}
	return groupWrite(len(flows), at, 5*time.Minute, func(w time.Time, from, to int) error {
		var b bytes.Buffer
		b.WriteString(strings.Join(logschema.VPCFlowLogFields, " ") + "\n")
		for _, f := range flows[from:to] {
			vals := make([]string, len(logschema.VPCFlowLogFields))
			for i, field := range logschema.VPCFlowLogFields {
				vals[i] = f[field]
				if vals[i] == "" {
					vals[i] = "-"
				}
			}
			b.WriteString(strings.Join(vals, " ") + "\n")
		}
		key := fmt.Sprintf("AWSLogs/%s/vpcflowlogs/%s/%s/%s_vpcflowlogs_%s_%s_%s_%s.log.gz",
			Account, Region, dayPath(w), Account, Region, flowLogID, stamp(w.Add(5*time.Minute)), hex(r, 8))
		g.sum.Files["vpcflowlogs"]++
		g.sum.Records["vpcflowlogs"] += to - from
		return g.write(key, b.Bytes())
	})
}

// writeDNS writes the query log records one JSON object a line, in files
// of five minutes.
func (g *generator) writeDNS(dns []lookup) error {
	r := g.rng("dns-files")
	return groupWrite(len(dns), func(i int) time.Time { return dns[i].time }, 5*time.Minute,
		func(w time.Time, from, to int) error {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			for _, l := range dns[from:to] {
				if err := enc.Encode(l); err != nil {
					return err
				}
			}
			key := fmt.Sprintf("AWSLogs/%s/vpcdnsquerylogs/%s/%s/%s_vpcdnsquerylogs_%s_%s_%s.log.gz",
				Account, VPCID, dayPath(w), VPCID, Account, stamp(w.Add(5*time.Minute)), hex(r, 8))
			g.sum.Files["vpcdnsquerylogs"]++
			g.sum.Records["vpcdnsquerylogs"] += to - from
			return g.write(key, b.Bytes())
		})
}

// groupWrite calls write for each run of consecutive items (sorted by
// time) in the same window of length d.
func groupWrite(n int, at func(int) time.Time, d time.Duration, write func(w time.Time, from, to int) error) error {
	for from := 0; from < n; {
		w := window(at(from), d)
		to := from
		for to < n && window(at(to), d).Equal(w) {
			to++
		}
		if err := write(w, from, to); err != nil {
			return err
		}
		from = to
	}
	return nil
}
