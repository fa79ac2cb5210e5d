package samplelogs

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/rehearse/recording"
)

// records collects the CloudTrail records a part of the sample makes.
type records []*record

// add appends the record of a call and returns it, for the caller to set
// what else the call's record holds.
func (rs *records) add(t time.Time, who identity, source, name string, params, resp any, ip, agent string) *record {
	rec := &record{
		time: t, UserIdentity: who, EventSource: source, EventName: name, AWSRegion: Region,
		SourceIPAddress: ip, UserAgent: agent, RequestParameters: params, ResponseElements: resp,
		ReadOnly: readOnly(name),
	}
	*rs = append(*rs, rec)
	return rec
}

// containAccessKey adds the calls contain-access-key.sh makes to contain
// user's access key for incident: a call every two seconds after *t, which
// it advances.
func (rs *records) containAccessKey(t *time.Time, responder identity, user, key, incident string) {
	next := func() time.Time { *t = t.Add(2 * time.Second); return *t }
	agent := func(c string) string { return cloudShellUA + c }
	rs.add(next(), responder, "iam.amazonaws.com", "GetAccessKeyLastUsed", map[string]any{"accessKeyId": key}, nil, analystIP, agent("iam.get-access-key-last-used"))
	rs.add(next(), responder, "iam.amazonaws.com", "UpdateAccessKey", map[string]any{"userName": user, "accessKeyId": key, "status": "Inactive"}, nil, analystIP, agent("iam.update-access-key"))
	rs.add(next(), responder, "iam.amazonaws.com", "PutUserPolicy", map[string]any{
		"userName": user, "policyName": "ir-containment-deny-all",
		"policyDocument": `{"Version":"2012-10-17","Statement":[{"Sid":"IncidentContainmentDenyAll","Effect":"Deny","Action":"*","Resource":"*"}]}`,
	}, nil, analystIP, agent("iam.put-user-policy"))
	rs.add(next(), responder, "iam.amazonaws.com", "TagUser", map[string]any{"userName": user, "tags": []any{
		map[string]any{"key": "ir-workshop:incident-id", "value": incident},
		map[string]any{"key": "ir-workshop:contained-access-key", "value": key},
	}}, nil, analystIP, agent("iam.tag-user"))
}

// replaceWorkloadKey adds the recovery that both S3 incidents end with:
// the responder gives the workload user newKey, puts it in the user's
// secret and removes the containment policy, a call every two seconds after
// *t (which it advances); later, at oldKeyAt, deletes the user's old key.
func (rs *records) replaceWorkloadKey(t *time.Time, oldKeyAt time.Time, responder identity, sim recording.Simulation, newKey string) {
	next := func() time.Time { *t = t.Add(2 * time.Second); return *t }
	agent := func(c string) string { return cloudShellUA + c }
	rs.add(next(), responder, "iam.amazonaws.com", "CreateAccessKey", map[string]any{"userName": sim.User},
		map[string]any{"accessKey": map[string]any{"userName": sim.User, "accessKeyId": newKey, "status": "Active", "createDate": iamDate(*t)}},
		analystIP, agent("iam.create-access-key"))
	secret := "ir-workshop/simulation/" + sim.User
	rs.add(next(), responder, "secretsmanager.amazonaws.com", "PutSecretValue", map[string]any{"secretId": secret},
		map[string]any{"arn": secretARN(secret), "name": secret, "versionStages": []any{"AWSCURRENT"}},
		analystIP, agent("secretsmanager.put-secret-value"))
	rs.add(next(), responder, "iam.amazonaws.com", "DeleteUserPolicy", map[string]any{"userName": sim.User, "policyName": "ir-containment-deny-all"},
		nil, analystIP, agent("iam.delete-user-policy"))
	*t = oldKeyAt
	rs.add(next(), responder, "iam.amazonaws.com", "DeleteAccessKey", map[string]any{"userName": sim.User, "accessKeyId": sim.Key.AccessKeyID},
		nil, analystIP, agent("iam.delete-access-key"))
}

// s3Params are the request parameters CloudTrail records for an S3 call on
// bucket (and key, when there is one), with more besides.
func s3Params(bucket, key string, more map[string]any) map[string]any {
	m := map[string]any{"bucketName": bucket, "Host": bucket + ".s3.amazonaws.com"}
	if key != "" {
		m["key"] = key
	}
	for k, v := range more {
		m[k] = v
	}
	return m
}

// record is one CloudTrail record, with the fields in the order CloudTrail
// writes them (see "CloudTrail record contents" in the CloudTrail user
// guide).
type record struct {
	EventVersion        string         `json:"eventVersion"`
	UserIdentity        identity       `json:"userIdentity"`
	EventTime           string         `json:"eventTime"`
	EventSource         string         `json:"eventSource"`
	EventName           string         `json:"eventName"`
	AWSRegion           string         `json:"awsRegion"`
	SourceIPAddress     string         `json:"sourceIPAddress"`
	UserAgent           string         `json:"userAgent"`
	ErrorCode           string         `json:"errorCode,omitempty"`
	ErrorMessage        string         `json:"errorMessage,omitempty"`
	RequestParameters   any            `json:"requestParameters"`
	ResponseElements    any            `json:"responseElements"`
	AdditionalEventData map[string]any `json:"additionalEventData,omitempty"`
	RequestID           string         `json:"requestID"`
	EventID             string         `json:"eventID"`
	ReadOnly            bool           `json:"readOnly"`
	Resources           []resource     `json:"resources,omitempty"`
	EventType           string         `json:"eventType"`
	ManagementEvent     bool           `json:"managementEvent"`
	RecipientAccountID  string         `json:"recipientAccountId"`
	EventCategory       string         `json:"eventCategory"`
	TLSDetails          *tlsDetails    `json:"tlsDetails,omitempty"`

	time time.Time
}

type identity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *sessionContext `json:"sessionContext,omitempty"`
	InvokedBy      string          `json:"invokedBy,omitempty"`
}

type sessionContext struct {
	SessionIssuer map[string]string `json:"sessionIssuer"`
	Attributes    map[string]string `json:"attributes"`
}

type resource struct {
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type"`
	ARN       string `json:"ARN"`
}

type tlsDetails struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// simRun is one simulation's recorded calls.
type simRun struct {
	sim   recording.Simulation
	calls []recording.Call
	start time.Time
}

// runIDTime reads the time out of a run ID, PREFIX-YYYYMMDD-HHMMSS-HEX.
var runIDTime = regexp.MustCompile(`^[a-z]{2,8}-([0-9]{8}-[0-9]{6})-[0-9a-f]{8}$`)

// splitSimulations groups the calls by simulation, in the order of
// recording.Simulations, and checks that each carries its run ID.
func splitSimulations(calls []recording.Call) ([]simRun, error) {
	by := map[string][]recording.Call{}
	for _, c := range calls {
		by[c.Simulation] = append(by[c.Simulation], c)
	}
	var runs []simRun
	for _, sim := range recording.Simulations {
		cs := by[sim.Name]
		delete(by, sim.Name)
		if len(cs) == 0 {
			return nil, fmt.Errorf("no recorded calls of simulation %s", sim.Name)
		}
		m := runIDTime.FindStringSubmatch(sim.RunID)
		if m == nil {
			return nil, fmt.Errorf("simulation %s: run ID %q is not PREFIX-YYYYMMDD-HHMMSS-HEX", sim.Name, sim.RunID)
		}
		t, err := time.Parse("20060102-150405", m[1])
		if err != nil {
			return nil, fmt.Errorf("simulation %s: run ID %q: %w", sim.Name, sim.RunID, err)
		}
		for _, c := range cs {
			if !strings.Contains(c.UserAgent, "app/ir-workshop-"+sim.RunID) {
				return nil, fmt.Errorf("simulation %s: recorded %s call without app/ir-workshop-%s in its user agent", sim.Name, c.Op(), sim.RunID)
			}
		}
		runs = append(runs, simRun{sim: sim, calls: cs, start: t.UTC()})
	}
	for name := range by {
		return nil, fmt.Errorf("recorded calls of unknown simulation %q", name)
	}
	return runs, nil
}

// launched is an instance that a recorded RunInstances call started.
type launched struct {
	id, subnet, privateIP, eni, image string
	at                                time.Time
	userData                          string
}

// iamUser is the identity of an IAM user signing with an access key.
func iamUser(user, key string) identity {
	return identity{
		Type:        "IAMUser",
		PrincipalID: principalID("AIDA", user),
		ARN:         "arn:aws:iam::" + Account + ":user/" + user,
		AccountID:   Account,
		AccessKeyID: key,
		UserName:    user,
	}
}

// assumedRole is the identity of a role session.
func assumedRole(role, session string) identity {
	roleID := principalID("AROA", role)
	return identity{
		Type:        "AssumedRole",
		PrincipalID: roleID + ":" + session,
		ARN:         "arn:aws:sts::" + Account + ":assumed-role/" + role + "/" + session,
		AccountID:   Account,
		AccessKeyID: principalID("ASIA", role+"/"+session),
		SessionContext: &sessionContext{
			SessionIssuer: map[string]string{
				"type": "Role", "principalId": roleID, "arn": "arn:aws:iam::" + Account + ":role/" + role,
				"accountId": Account, "userName": role,
			},
			Attributes: map[string]string{"creationDate": "2026-01-01T00:00:00Z", "mfaAuthenticated": "false"},
		},
	}
}

// principalID makes a stable IAM unique ID (AIDA..., AROA..., ASIA...)
// from a name.
func principalID(prefix, name string) string {
	r := rand.New(rand.NewPCG(uint64(len(name)), fnvHash(name)))
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, 16)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return prefix + string(b)
}

func fnvHash(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// cloudTrail makes the CloudTrail records: the simulations' calls, the
// response, and the background. It returns the records and the instances
// the simulations launched.
func (g *generator) cloudTrail(runs []simRun) ([]*record, []launched, error) {
	r := g.rng("cloudtrail")
	var recs []*record
	var instances []launched
	for _, run := range runs {
		// The first two simulations share the stream of the background, as
		// they always have; a simulation added later replays on a stream of
		// its own, so that the records of the others stay as they were.
		rr := r
		if !sharedStream[run.sim.Name] {
			rr = g.rng("cloudtrail-" + run.sim.Name)
		}
		rs, ls, err := g.replay(rr, run)
		if err != nil {
			return nil, nil, err
		}
		recs = append(recs, rs...)
		instances = append(instances, ls...)
	}
	recs = append(recs, g.background(r, runs, instances)...)
	recs = append(recs, g.s3Exfiltration(runs)...)
	recs = append(recs, g.s3Ransomware(runs)...)
	recs = append(recs, g.people(g.rng("cloudtrail-people"))...)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].time.Before(recs[j].time) })
	for _, rec := range recs {
		rec.RequestID = uuid(r)
		rec.EventID = uuid(r)
		if rec.EventVersion == "" {
			rec.EventVersion = "1.11"
		}
		rec.EventTime = rec.time.UTC().Format(time.RFC3339)
		rec.RecipientAccountID = Account
		if rec.EventType == "" {
			rec.EventType = "AwsApiCall"
		}
		if rec.EventCategory == "" {
			rec.EventCategory = "Management"
			rec.ManagementEvent = true
		}
		if rec.UserIdentity.InvokedBy == "" && rec.TLSDetails == nil {
			rec.TLSDetails = &tlsDetails{"TLSv1.3", "TLS_AES_128_GCM_SHA256", host(rec.EventSource, rec.AWSRegion, rec.RequestParameters)}
		}
	}
	return recs, instances, nil
}

// sharedStream are the simulations that replay on the stream of the
// background (cloudTrail).
var sharedStream = map[string]bool{"credential_exposure": true, "crypto_mining": true}

// replay turns one simulation's recorded calls into records, in order, a
// second or two apart from the run's start.
func (g *generator) replay(r *rand.Rand, run simRun) ([]*record, []launched, error) {
	ip := credentialExposureIP
	switch run.sim.Name {
	case "crypto_mining":
		ip = cryptoMiningIP
	case "s3_exfiltration":
		ip = s3ExfiltrationIP
	case "s3_ransomware":
		ip = s3RansomwareIP
	}
	created := map[string]string{} // principal created-N → user name
	n := 0
	for _, c := range run.calls {
		if c.Op() == "iam:CreateAccessKey" {
			n++
			user, _ := c.Params["UserName"].(string)
			created[fmt.Sprintf("created-%d", n)] = user
		}
	}
	var recs []*record
	var instances []launched
	t := run.start
	for _, c := range run.calls {
		t = t.Add(time.Duration(1000+r.IntN(2000)) * time.Millisecond).Truncate(time.Second)
		var who identity
		switch {
		case c.Principal == run.sim.Key.Name:
			who = iamUser(run.sim.User, run.sim.Key.AccessKeyID)
		case created[c.Principal] != "":
			k, _ := strconv.Atoi(strings.TrimPrefix(c.Principal, "created-"))
			who = iamUser(created[c.Principal], recording.CreatedKeyID(k))
		default:
			return nil, nil, fmt.Errorf("simulation %s: recorded %s call signed by unknown principal %q", run.sim.Name, c.Op(), c.Principal)
		}
		rec := &record{
			time:              t,
			UserIdentity:      who,
			EventSource:       c.Service + ".amazonaws.com",
			EventName:         eventName(c),
			AWSRegion:         c.Region,
			SourceIPAddress:   ip,
			UserAgent:         c.UserAgent,
			RequestParameters: requestParameters(c),
			ReadOnly:          readOnly(c.Action),
		}
		switch c.Op() {
		case "iam:CreateUser":
			user, _ := c.Params["UserName"].(string)
			rec.ResponseElements = map[string]any{"user": map[string]any{
				"path": "/", "userName": user, "userId": principalID("AIDA", user),
				"arn": "arn:aws:iam::" + Account + ":user/" + user, "createDate": iamDate(t),
				"tags": tags(c.Params, "Tags.member"),
			}}
		case "iam:CreateAccessKey":
			user, _ := c.Params["UserName"].(string)
			k := 0
			for p, u := range created {
				if u == user {
					k, _ = strconv.Atoi(strings.TrimPrefix(p, "created-"))
				}
			}
			rec.ResponseElements = map[string]any{"accessKey": map[string]any{
				"userName": user, "accessKeyId": recording.CreatedKeyID(k), "status": "Active", "createDate": iamDate(t),
			}}
		case "ec2:RunInstances":
			ls, resp, err := runInstances(r, c, t, len(instances))
			if err != nil {
				return nil, nil, fmt.Errorf("simulation %s: %w", run.sim.Name, err)
			}
			instances = append(instances, ls...)
			rec.ResponseElements = resp
		}
		if c.Service == "s3" {
			s3Details(rec, c)
		}
		if c.Op() == "s3:PutBucketPolicy" && run.sim.Name == "s3_exfiltration" {
			// The policy would make objects public, and the data bucket's
			// Block Public Access (BlockPublicPolicy) refuses it.
			rec.ErrorCode, rec.ErrorMessage = "AccessDenied", "Access Denied"
		}
		if run.sim.Name == "s3_ransomware" {
			ransomDetails(rec, c)
		}
		recs = append(recs, rec)
		if c.Op() == "ec2:RunInstances" {
			t = t.Add(15 * time.Second) // until the instances run
		}
	}
	return recs, instances, nil
}

// eventName is CloudTrail's name for a call: Lambda's carry the API
// version (ListFunctions20150331).
func eventName(c recording.Call) string {
	switch {
	case c.Service == "lambda":
		return c.Action + "20150331"
	case c.Op() == "s3:ListObjectsV2":
		// CloudTrail names both versions of the call ListObjects.
		return "ListObjects"
	}
	return c.Action
}

// readOnly tells CloudTrail's readOnly of an action by its verb.
func readOnly(action string) bool {
	for _, p := range []string{"Get", "List", "Describe", "Head", "Lookup", "Search", "BatchGet"} {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}

// iamDate is how IAM responses in CloudTrail spell dates.
func iamDate(t time.Time) string { return t.UTC().Format("Jan 2, 2006, 3:04:05 PM") }

// host is the endpoint a call went to, for tlsDetails.
func host(source, region string, params any) string {
	service := strings.TrimSuffix(source, ".amazonaws.com")
	switch service {
	case "iam":
		return "iam.amazonaws.com"
	case "s3":
		if m, ok := params.(map[string]any); ok {
			if h, ok := m["Host"].(string); ok {
				return h
			}
		}
		return "s3.amazonaws.com"
	}
	return service + "." + region + ".amazonaws.com"
}

// requestParameters shapes a call's parameters as CloudTrail records them:
// names in lowerCamelCase, query-protocol lists (Tags.member.N.Key) as
// lists, EC2 lists as xxxSet.items, S3 buckets as bucketName with Host,
// RunInstances as EC2 records it; no parameters is null.
func requestParameters(c recording.Call) any {
	switch c.Service {
	case "s3":
		bucket, _ := c.Params["Bucket"].(string)
		m := map[string]any{"Host": "s3.amazonaws.com"}
		if bucket != "" {
			m["bucketName"] = bucket
			m["Host"] = bucket + ".s3.amazonaws.com"
		}
		for k, v := range c.Params {
			switch k {
			case "Bucket":
			case "Key":
				m["key"] = v
			default:
				m[lowerCamel(k)] = v
			}
		}
		switch c.Action {
		case "PutBucketTagging":
			m["tagging"] = ""
		case "ListBuckets":
			return m
		}
		return m
	case "ec2":
		if c.Action == "RunInstances" {
			return runInstancesParams(c.Params)
		}
		if len(c.Params) == 0 {
			return nil
		}
		return ec2Params(c.Params)
	}
	if len(c.Params) == 0 {
		return nil
	}
	if c.Service == "iam" || c.Service == "sts" {
		return queryParams(c.Params)
	}
	out := map[string]any{}
	for k, v := range c.Params {
		out[lowerCamel(k)] = camelValue(v)
	}
	return out
}

// lowerCamel turns UserName into userName, and leaves a name that does not
// start with a capital letter as it is.
func lowerCamel(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	// A leading acronym (VPCId) lowers as a whole but its last letter.
	i := 0
	for i < len(s) && s[i] >= 'A' && s[i] <= 'Z' {
		i++
	}
	if i > 1 && i < len(s) {
		i--
	}
	return strings.ToLower(s[:i]) + s[i:]
}

func camelValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[lowerCamel(k)] = camelValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = camelValue(x)
		}
		return out
	}
	return v
}

// queryParams nests query-protocol parameters: Tags.member.1.Key becomes
// tags[0].key.
func queryParams(params map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		parts := strings.Split(k, ".")
		var path []string
		for _, p := range parts {
			if p != "member" && p != "entry" {
				path = append(path, p)
			}
		}
		setPath(out, path, params[k], func(s string) string { return lowerCamel(s) })
	}
	return listify(out).(map[string]any)
}

// ec2Params shapes EC2 parameters: Filter.1.Value.1 becomes
// filterSet.items[0].valueSet.items[0].value, InstanceId.1 becomes
// instancesSet.items[0].instanceId.
func ec2Params(params map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		setPath(out, strings.Split(k, "."), params[k], lowerCamel)
	}
	return ec2Sets(out).(map[string]any)
}

// setPath sets v at the dotted path in m, with numeric segments as map keys
// for now (listify and ec2Sets turn them into lists).
func setPath(m map[string]any, path []string, v any, name func(string) string) {
	for i, p := range path {
		key := p
		if _, err := strconv.Atoi(p); err != nil {
			key = name(p)
		}
		if i == len(path)-1 {
			m[key] = v
			return
		}
		next, ok := m[key].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[key] = next
		}
		m = next
	}
}

// numericKeys tells whether every key of m is a number.
func numericKeys(m map[string]any) bool {
	if len(m) == 0 {
		return false
	}
	for k := range m {
		if _, err := strconv.Atoi(k); err != nil {
			return false
		}
	}
	return true
}

// inOrder returns the values of a map with numeric keys, by number.
func inOrder(m map[string]any) []any {
	keys := make([]int, 0, len(m))
	for k := range m {
		n, _ := strconv.Atoi(k)
		keys = append(keys, n)
	}
	sort.Ints(keys)
	out := make([]any, len(keys))
	for i, n := range keys {
		out[i] = m[strconv.Itoa(n)]
	}
	return out
}

// listify turns maps with numeric keys into lists.
func listify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, x := range m {
		m[k] = listify(x)
	}
	if numericKeys(m) {
		return inOrder(m)
	}
	return m
}

// ec2SetNames are the names EC2's CloudTrail records give lists whose name
// is not NAME + "Set".
var ec2SetNames = map[string]string{"instanceId": "instancesSet", "tag": "tags"}

// ec2Sets turns EC2 lists (maps with numeric keys) into {"items": [...]}
// under NAMESet, a list of scalars into items of {name: value}.
func ec2Sets(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for k, x := range m {
		sub, isMap := x.(map[string]any)
		if !isMap || !numericKeys(sub) {
			out[k] = ec2Sets(x)
			continue
		}
		var items []any
		for _, item := range inOrder(sub) {
			if _, scalar := item.(map[string]any); !scalar {
				item = map[string]any{k: item}
			}
			items = append(items, ec2Sets(item))
		}
		name := k + "Set"
		if n, ok := ec2SetNames[k]; ok {
			name = n
		}
		if name == "tags" {
			out[name] = items
		} else {
			out[name] = map[string]any{"items": items}
		}
	}
	return out
}

// tags reads query-protocol tags (PREFIX.N.Key, PREFIX.N.Value) as
// CloudTrail's [{key, value}].
func tags(params map[string]any, prefix string) []any {
	var out []any
	for i := 1; ; i++ {
		k, ok := params[fmt.Sprintf("%s.%d.Key", prefix, i)]
		if !ok {
			return out
		}
		out = append(out, map[string]any{"key": k, "value": params[fmt.Sprintf("%s.%d.Value", prefix, i)]})
	}
}

func intParam(params map[string]any, name string, def int) int {
	switch v := params[name].(type) {
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return int(n)
		}
	}
	return def
}

// runInstancesParams shapes RunInstances parameters as EC2's CloudTrail
// records do; the user data is "<sensitiveDataRemoved>".
func runInstancesParams(p map[string]any) map[string]any {
	out := map[string]any{
		"instancesSet": map[string]any{"items": []any{map[string]any{
			"imageId": p["ImageId"], "minCount": intParam(p, "MinCount", 1), "maxCount": intParam(p, "MaxCount", 1),
		}}},
		"instanceType":          p["InstanceType"],
		"blockDeviceMapping":    map[string]any{},
		"monitoring":            map[string]any{"enabled": false},
		"disableApiTermination": false,
		"disableApiStop":        false,
	}
	if v, ok := p["SubnetId"]; ok {
		out["subnetId"] = v
	}
	if v, ok := p["ClientToken"]; ok {
		out["clientToken"] = v
	}
	if _, ok := p["UserData"]; ok {
		out["userData"] = "<sensitiveDataRemoved>"
	}
	meta := map[string]any{}
	for k, v := range p {
		if name, ok := strings.CutPrefix(k, "MetadataOptions."); ok {
			meta[lowerCamel(name)] = v
		}
	}
	if len(meta) > 0 {
		out["metadataOptions"] = meta
	}
	var specs []any
	for i := 1; ; i++ {
		typ, ok := p[fmt.Sprintf("TagSpecification.%d.ResourceType", i)]
		if !ok {
			break
		}
		var ts []any
		for j := 1; ; j++ {
			k, ok := p[fmt.Sprintf("TagSpecification.%d.Tag.%d.Key", i, j)]
			if !ok {
				break
			}
			ts = append(ts, map[string]any{"key": k, "value": p[fmt.Sprintf("TagSpecification.%d.Tag.%d.Value", i, j)]})
		}
		specs = append(specs, map[string]any{"resourceType": typ, "tags": ts})
	}
	if len(specs) > 0 {
		out["tagSpecificationSet"] = map[string]any{"items": specs}
	}
	return out
}

// miningIPs are the private addresses the launched instances get, in the
// public subnet of the first zone (192.168.0.0/18).
var miningIPs = []string{"192.168.27.183", "192.168.31.42", "192.168.9.207"}

// runInstances makes the instances that a RunInstances call launches and
// its responseElements. before counts the instances launched earlier.
func runInstances(r *rand.Rand, c recording.Call, t time.Time, before int) ([]launched, map[string]any, error) {
	count := intParam(c.Params, "MaxCount", 1)
	image, _ := c.Params["ImageId"].(string)
	subnet, _ := c.Params["SubnetId"].(string)
	typ, _ := c.Params["InstanceType"].(string)
	var userData string
	if ud, ok := c.Params["UserData"].(string); ok {
		raw, err := base64.StdEncoding.DecodeString(ud)
		if err != nil {
			return nil, nil, fmt.Errorf("RunInstances user data is not base64: %w", err)
		}
		userData = string(raw)
	}
	var ls []launched
	var items []any
	for i := 0; i < count; i++ {
		n := before + i
		if n >= len(miningIPs) {
			return nil, nil, fmt.Errorf("RunInstances launches more than %d instances; the sample has addresses for %d", len(miningIPs), len(miningIPs))
		}
		l := launched{
			id: recording.IDPlaceholder("i", n), subnet: subnet, privateIP: miningIPs[n],
			eni: recording.IDPlaceholder("eni", n), image: image, at: t, userData: userData,
		}
		ls = append(ls, l)
		items = append(items, map[string]any{
			"instanceId": l.id, "imageId": image, "instanceType": typ, "amiLaunchIndex": i,
			"instanceState":      map[string]any{"code": 0, "name": "pending"},
			"privateDnsName":     "ip-" + strings.ReplaceAll(l.privateIP, ".", "-") + ".ec2.internal",
			"launchTime":         t.UnixMilli(),
			"placement":          map[string]any{"availabilityZone": Region + "a", "tenancy": "default"},
			"monitoring":         map[string]any{"state": "disabled"},
			"subnetId":           subnet,
			"vpcId":              VPCID,
			"privateIpAddress":   l.privateIP,
			"architecture":       "x86_64",
			"rootDeviceType":     "ebs",
			"rootDeviceName":     "/dev/xvda",
			"virtualizationType": "hvm",
			"networkInterfaceSet": map[string]any{"items": []any{map[string]any{
				"networkInterfaceId": l.eni, "subnetId": subnet, "vpcId": VPCID, "privateIpAddress": l.privateIP,
			}}},
		})
	}
	resp := map[string]any{
		"requestId":     uuid(r),
		"reservationId": recording.IDPlaceholder("r", before),
		"ownerId":       Account,
		"groupSet":      map[string]any{},
		"instancesSet":  map[string]any{"items": items},
	}
	return ls, resp, nil
}

// s3Details adds what S3's records carry to a recorded S3 call (s3Request).
func s3Details(rec *record, c recording.Call) {
	bucket, _ := c.Params["Bucket"].(string)
	key, _ := c.Params["Key"].(string)
	in, out := 0, 0
	switch {
	case key != "" && c.Action == "PutObject":
		rec.ResponseElements = map[string]any{"x-amz-server-side-encryption": "AES256"}
		in = 2841
	case key != "" && c.Action == "GetObject":
		out = objectSize(key)
	}
	s3Request(rec, bucket, key, in, out)
}

// objectSize is a record's size in bytes, the same for the same key: the
// recording keeps no response bodies.
func objectSize(key string) int {
	return 1800 + int(fnvHash(key)%6000)
}

// s3Request adds what S3's records carry: the bucket, and the object if
// key is not empty, as resources; how the request was signed and the bytes
// it moved in and out. An object call is a data event.
func s3Request(rec *record, bucket, key string, in, out int) *record {
	rec.AdditionalEventData = map[string]any{
		"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
		"AuthenticationMethod": "AuthHeader", "bytesTransferredIn": in, "bytesTransferredOut": out,
	}
	if bucket != "" {
		rec.Resources = append(rec.Resources, resource{AccountID: Account, Type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::" + bucket})
	}
	if key != "" {
		rec.Resources = append([]resource{{Type: "AWS::S3::Object", ARN: "arn:aws:s3:::" + bucket + "/" + key}}, rec.Resources...)
		rec.EventCategory = "Data"
		rec.ManagementEvent = false
		rec.EventVersion = "1.10"
	}
	return rec
}
