package samplelogs

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/rehearse/recording"
)

// User agents of the background's callers.
const (
	ciAgent        = "aws-cli/2.22.35 Python/3.12.6 Linux/5.10.230-223.885.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off command/"
	cloudShellUA   = "aws-cli/2.22.35 Python/3.12.6 Linux/6.1.119-129.201.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off command/"
	ssmAgentUA     = "aws-sdk-go/1.55.5 (go1.22.8; linux; amd64) amazon-ssm-agent/3.3.1142.0"
	instanceRole   = "WorkshopStack-NetworkInstanceRole3F8A1C2B-Q1W2E3R4T5Y6"
	workshopPublic = "192.0.2.44"
	isolationGroup = "sg-0f1e2d3c4b5a69788"
)

// days are the days of the sample, the incident's last.
var days = []time.Time{mustTime("2025-12-31T00:00:00Z"), mustTime("2026-01-01T00:00:00Z")}

// background makes the benign CloudTrail records and the response's.
func (g *generator) background(r *rand.Rand, runs []simRun, instances []launched) []*record {
	var recs []*record
	add := func(t time.Time, who identity, source, name string, params, resp any, ip, agent string) *record {
		rec := &record{
			time: t, UserIdentity: who, EventSource: source, EventName: name, AWSRegion: Region,
			SourceIPAddress: ip, UserAgent: agent, RequestParameters: params, ResponseElements: resp,
			ReadOnly: readOnly(name),
		}
		recs = append(recs, rec)
		return rec
	}
	at := func(day time.Time, hhmm string, sec int) time.Time {
		d, _ := time.ParseDuration(hhmm[:2] + "h" + hhmm[3:] + "m")
		return day.Add(d + time.Duration(sec)*time.Second)
	}
	var leaked, pipeline recording.Simulation
	for _, run := range runs {
		switch run.sim.Name {
		case "credential_exposure":
			leaked = run.sim
		case "crypto_mining":
			pipeline = run.sim
		}
	}

	for _, day := range days {
		// The owners' pipelines, from their usual addresses. The leaked
		// key is inactive from containment on: calls with it fail
		// authentication, which CloudTrail does not record.
		for _, hhmm := range []string{"02:10", "06:10", "14:10", "18:10"} {
			t := at(day, hhmm, r.IntN(50))
			if !t.Before(ContainedAt) && !t.Before(days[1]) {
				continue
			}
			who := iamUser(leaked.User, leaked.Key.AccessKeyID)
			add(t, who, "iam.amazonaws.com", "ListUsers", nil, nil, integrationCIIP, ciAgent+"iam.list-users")
			add(t.Add(2*time.Second), who, "iam.amazonaws.com", "ListAttachedUserPolicies",
				map[string]any{"userName": leaked.User}, nil, integrationCIIP, ciAgent+"iam.list-attached-user-policies")
		}
		for _, hhmm := range []string{"03:20", "07:20", "15:20", "19:20"} {
			t := at(day, hhmm, r.IntN(50))
			who := iamUser(pipeline.User, pipeline.Key.AccessKeyID)
			add(t, who, "ec2.amazonaws.com", "DescribeInstances", map[string]any{
				"instancesSet": map[string]any{},
				"filterSet": map[string]any{"items": []any{map[string]any{
					"name": "tag:app", "valueSet": map[string]any{"items": []any{map[string]any{"value": "web"}}},
				}}},
			}, nil, pipelineCIIP, ciAgent+"ec2.describe-instances")
			add(t.Add(3*time.Second), who, "ec2.amazonaws.com", "DescribeImages", map[string]any{
				"executableBySet": map[string]any{}, "ownersSet": map[string]any{"items": []any{map[string]any{"owner": "self"}}},
				"imagesSet": map[string]any{}, "includeDeprecated": false,
			}, nil, pipelineCIIP, ciAgent+"ec2.describe-images")
		}
		// The workshop instance's SSM agent reports in.
		for t := day.Add(time.Duration(r.IntN(600)) * time.Second); t.Before(day.Add(24 * time.Hour)); t = t.Add(30 * time.Minute) {
			add(t, assumedRole(instanceRole, WorkshopInstance), "ssm.amazonaws.com", "UpdateInstanceInformation", map[string]any{
				"instanceId": WorkshopInstance, "agentVersion": "3.3.1142.0", "agentStatus": "Active",
				"platformType": "Linux", "platformName": "Amazon Linux", "platformVersion": "2023",
				"iPAddress": "192.168.12.34", "computerName": "ip-192-168-12-34.ec2.internal", "agentName": "amazon-ssm-agent",
			}, nil, workshopPublic, ssmAgentUA)
		}
	}

	// The analyst works the findings with Athena.
	analyst := assumedRole("SecurityAnalystRole", "analyst")
	for i, hhmm := range []string{"11:02", "11:09", "11:16", "11:24", "11:31", "11:38"} {
		t := at(days[1], hhmm, r.IntN(40))
		id := uuid(r)
		add(t, analyst, "athena.amazonaws.com", "StartQueryExecution", map[string]any{
			"queryString":           fmt.Sprintf("-- playbook query %d", i+1),
			"queryExecutionContext": map[string]any{"database": "ir_workshop"},
			"workGroup":             "ir-workshop",
		}, map[string]any{"queryExecutionId": id}, analystIP, cloudShellUA+"athena.start-query-execution")
		add(t.Add(4*time.Second), analyst, "athena.amazonaws.com", "GetQueryExecution",
			map[string]any{"queryExecutionId": id}, nil, analystIP, cloudShellUA+"athena.get-query-execution")
		add(t.Add(5*time.Second), analyst, "athena.amazonaws.com", "GetQueryResults",
			map[string]any{"queryExecutionId": id}, nil, analystIP, cloudShellUA+"athena.get-query-results")
	}

	// Containment, finished by ContainedAt: contain-access-key.sh for the
	// leaked key and every key made with it, isolate-instance.sh for every
	// launched instance.
	responder := assumedRole("SecurityBreakGlassRole", "responder")
	t := ContainedAt.Add(-3 * time.Minute)
	step := func(d time.Duration) time.Time { t = t.Add(d); return t }
	contain := func(user, key string) {
		agent := func(c string) string { return cloudShellUA + c }
		add(step(2*time.Second), responder, "iam.amazonaws.com", "GetAccessKeyLastUsed", map[string]any{"accessKeyId": key}, nil, analystIP, agent("iam.get-access-key-last-used"))
		add(step(2*time.Second), responder, "iam.amazonaws.com", "UpdateAccessKey", map[string]any{"userName": user, "accessKeyId": key, "status": "Inactive"}, nil, analystIP, agent("iam.update-access-key"))
		add(step(2*time.Second), responder, "iam.amazonaws.com", "PutUserPolicy", map[string]any{
			"userName": user, "policyName": "ir-containment-deny-all",
			"policyDocument": `{"Version":"2012-10-17","Statement":[{"Sid":"IncidentContainmentDenyAll","Effect":"Deny","Action":"*","Resource":"*"}]}`,
		}, nil, analystIP, agent("iam.put-user-policy"))
		add(step(2*time.Second), responder, "iam.amazonaws.com", "TagUser", map[string]any{"userName": user, "tags": []any{
			map[string]any{"key": "ir-workshop:incident-id", "value": "IR-2026-0001"},
			map[string]any{"key": "ir-workshop:contained-access-key", "value": key},
		}}, nil, analystIP, agent("iam.tag-user"))
	}
	contain(leaked.User, leaked.Key.AccessKeyID)
	for _, run := range runs {
		n := 0
		for _, c := range run.calls {
			if c.Op() == "iam:CreateAccessKey" {
				n++
				user, _ := c.Params["UserName"].(string)
				contain(user, recording.CreatedKeyID(n))
			}
		}
	}
	for i, in := range instances {
		agent := func(c string) string { return cloudShellUA + c }
		add(step(3*time.Second), responder, "ec2.amazonaws.com", "ModifyInstanceAttribute", map[string]any{
			"instanceId": in.id, "disableApiTermination": map[string]any{"value": true},
		}, map[string]any{"_return": true}, analystIP, agent("ec2.modify-instance-attribute"))
		if i == 0 {
			add(step(2*time.Second), responder, "ec2.amazonaws.com", "CreateSecurityGroup", map[string]any{
				"groupName": "ir-workshop-isolation", "groupDescription": "No traffic in or out: incident isolation", "vpcId": VPCID,
			}, map[string]any{"_return": true, "groupId": isolationGroup}, analystIP, agent("ec2.create-security-group"))
			add(step(2*time.Second), responder, "ec2.amazonaws.com", "RevokeSecurityGroupEgress", map[string]any{
				"groupId": isolationGroup, "ipPermissions": map[string]any{"items": []any{map[string]any{
					"ipProtocol": "-1", "ipRanges": map[string]any{"items": []any{map[string]any{"cidrIp": "0.0.0.0/0"}}},
				}}},
			}, map[string]any{"_return": true}, analystIP, agent("ec2.revoke-security-group-egress"))
		}
		add(step(2*time.Second), responder, "ec2.amazonaws.com", "ModifyNetworkInterfaceAttribute", map[string]any{
			"networkInterfaceId": in.eni, "groupSet": map[string]any{"items": []any{map[string]any{"groupId": isolationGroup}}},
		}, map[string]any{"_return": true}, analystIP, agent("ec2.modify-network-interface-attribute"))
		add(step(2*time.Second), responder, "ec2.amazonaws.com", "CreateSnapshot", map[string]any{
			"volumeId": recording.IDPlaceholder("vol", i), "description": "ir-workshop IR-2026-0001 " + in.id,
		}, map[string]any{"snapshotId": recording.IDPlaceholder("snap", i), "volumeId": recording.IDPlaceholder("vol", i), "status": "pending"},
			analystIP, agent("ec2.create-snapshot"))
		add(step(2*time.Second), responder, "ec2.amazonaws.com", "CreateTags", map[string]any{
			"resourcesSet": map[string]any{"items": []any{map[string]any{"resourceId": in.id}}},
			"tagSet":       map[string]any{"items": []any{map[string]any{"key": "ir-workshop:incident-id", "value": "IR-2026-0001"}}},
		}, map[string]any{"_return": true}, analystIP, agent("ec2.create-tags"))
	}

	// Eradication: the instances go once their disks are snapshotted.
	t = TerminateAt
	for _, in := range instances {
		add(step(2*time.Second), responder, "ec2.amazonaws.com", "ModifyInstanceAttribute", map[string]any{
			"instanceId": in.id, "disableApiTermination": map[string]any{"value": false},
		}, map[string]any{"_return": true}, analystIP, cloudShellUA+"ec2.modify-instance-attribute")
		add(step(2*time.Second), responder, "ec2.amazonaws.com", "TerminateInstances", map[string]any{
			"instancesSet": map[string]any{"items": []any{map[string]any{"instanceId": in.id}}},
		}, map[string]any{"instancesSet": map[string]any{"items": []any{map[string]any{
			"instanceId": in.id, "currentState": map[string]any{"code": 32, "name": "shutting-down"},
			"previousState": map[string]any{"code": 16, "name": "running"},
		}}}}, analystIP, cloudShellUA+"ec2.terminate-instances")
	}
	return recs
}
