package samplelogs

import (
	"fmt"
	"math/rand/v2"
	"strings"
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
	browserUA      = "Mozilla/5.0 (X11; Linux x86_64; rv:134.0) Gecko/20100101 Firefox/134.0"
	// adminUser is the workshop's base principal, an IAM user who signs in
	// to the console and assumes the responders' roles.
	adminUser = "Alice"
)

// days are the days of the sample, the incident's last.
var days = []time.Time{mustTime("2025-12-31T00:00:00Z"), mustTime("2026-01-01T00:00:00Z")}

// background makes the benign CloudTrail records and the response's.
func (g *generator) background(r *rand.Rand, runs []simRun, instances []launched) []*record {
	var recs records
	add := recs.add
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
		// The owners' jobs, from their usual addresses. A contained key is
		// inactive: calls with it fail authentication, which CloudTrail
		// does not record. From recovery on, the jobs use their new keys.
		for _, hhmm := range []string{"02:10", "06:10", "14:10", "18:10"} {
			t := at(day, hhmm, r.IntN(50))
			key := ownerKey(leaked, t)
			if key == "" {
				continue
			}
			who := iamUser(leaked.User, key)
			add(t, who, "iam.amazonaws.com", "ListUsers", nil, nil, integrationCIIP, ciAgent+"iam.list-users")
			add(t.Add(2*time.Second), who, "iam.amazonaws.com", "ListAttachedUserPolicies",
				map[string]any{"userName": leaked.User}, nil, integrationCIIP, ciAgent+"iam.list-attached-user-policies")
			recs = append(recs, directorySyncReads(t.Add(4*time.Second), who)...)
		}
		for _, hhmm := range []string{"03:20", "07:20", "15:20", "19:20"} {
			t := at(day, hhmm, r.IntN(50))
			key := ownerKey(pipeline, t)
			if key == "" {
				continue
			}
			who := iamUser(pipeline.User, key)
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
	recs.containAccessKey(&t, responder, leaked.User, leaked.Key.AccessKeyID, "IR-2026-0001")
	var made []madeUser // what the intruder made, for eradication
	var staged []stagedObject
	for _, run := range runs {
		if !sharedStream[run.sim.Name] {
			continue // an incident of its own, with its own response
		}
		n := 0
		for _, c := range run.calls {
			switch c.Op() {
			case "iam:CreateAccessKey":
				n++
				user, _ := c.Params["UserName"].(string)
				recs.containAccessKey(&t, responder, user, recording.CreatedKeyID(n), "IR-2026-0001")
				made = append(made, madeUser{user, recording.CreatedKeyID(n)})
			case "s3:PutObject":
				bucket, _ := c.Params["Bucket"].(string)
				key, _ := c.Params["Key"].(string)
				staged = append(staged, stagedObject{bucket, key})
			}
		}
	}
	// The crypto mining playbook stops the launcher the same way.
	recs.containAccessKey(&t, responder, pipeline.User, pipeline.Key.AccessKeyID, "IR-2026-0001")
	// The staging bucket is locked to the break-glass role before its
	// objects are copied as evidence.
	for i, o := range staged {
		agent := func(c string) string { return cloudShellUA + c }
		if i == 0 || staged[i-1].bucket != o.bucket {
			policy := lockdownPolicy(o.bucket)
			rec := s3Request(add(step(2*time.Second), responder, "s3.amazonaws.com", "GetBucketPolicy",
				map[string]any{"bucketName": o.bucket, "Host": o.bucket + ".s3.amazonaws.com", "policy": ""}, nil, analystIP, agent("s3api.get-bucket-policy")), o.bucket, "", 0, 0)
			rec.ErrorCode, rec.ErrorMessage = "NoSuchBucketPolicy", "The bucket policy does not exist"
			s3Request(add(step(2*time.Second), responder, "s3.amazonaws.com", "PutBucketPolicy",
				map[string]any{"bucketName": o.bucket, "Host": o.bucket + ".s3.amazonaws.com", "bucketPolicy": policy, "policy": ""}, nil, analystIP, agent("s3api.put-bucket-policy")), o.bucket, "", 0, 0)
		}
		s3Request(add(step(2*time.Second), responder, "s3.amazonaws.com", "GetObject",
			map[string]any{"bucketName": o.bucket, "Host": o.bucket + ".s3.amazonaws.com", "key": o.key}, nil, analystIP, agent("s3.cp")), o.bucket, o.key, 0, 2841)
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

	// Eradication of what the credential exposure left: the users it made
	// and the staging bucket, once copied.
	t = EradicateAt
	for _, u := range made {
		agent := func(c string) string { return cloudShellUA + c }
		add(step(2*time.Second), responder, "iam.amazonaws.com", "DeleteAccessKey", map[string]any{"userName": u.name, "accessKeyId": u.key}, nil, analystIP, agent("iam.delete-access-key"))
		add(step(2*time.Second), responder, "iam.amazonaws.com", "DetachUserPolicy", map[string]any{"userName": u.name, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, nil, analystIP, agent("iam.detach-user-policy"))
		add(step(2*time.Second), responder, "iam.amazonaws.com", "DeleteUserPolicy", map[string]any{"userName": u.name, "policyName": "ir-containment-deny-all"}, nil, analystIP, agent("iam.delete-user-policy"))
		add(step(2*time.Second), responder, "iam.amazonaws.com", "DeleteUser", map[string]any{"userName": u.name}, nil, analystIP, agent("iam.delete-user"))
	}
	for i, o := range staged {
		host := o.bucket + ".s3.amazonaws.com"
		s3Request(add(step(2*time.Second), responder, "s3.amazonaws.com", "DeleteObject",
			map[string]any{"bucketName": o.bucket, "Host": host, "key": o.key}, nil, analystIP, cloudShellUA+"s3.rb"), o.bucket, o.key, 0, 0)
		if i == len(staged)-1 || staged[i+1].bucket != o.bucket {
			s3Request(add(step(2*time.Second), responder, "s3.amazonaws.com", "DeleteBucket",
				map[string]any{"bucketName": o.bucket, "Host": host}, nil, analystIP, cloudShellUA+"s3.rb"), o.bucket, "", 0, 0)
		}
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

	// Recovery: each owner's workload gets a new key, kept in its secret
	// store, and the containment policy goes; the jobs use the new keys
	// from then on (ownerKey). Once they have run on them, the old keys
	// are deleted.
	t = RecoveredAt
	for _, sim := range []recording.Simulation{leaked, pipeline} {
		agent := func(c string) string { return cloudShellUA + c }
		add(step(2*time.Second), responder, "iam.amazonaws.com", "CreateAccessKey", map[string]any{"userName": sim.User},
			map[string]any{"accessKey": map[string]any{"userName": sim.User, "accessKeyId": NewKeyID(sim), "status": "Active", "createDate": iamDate(t)}},
			analystIP, agent("iam.create-access-key"))
		add(step(2*time.Second), responder, "secretsmanager.amazonaws.com", "PutSecretValue", map[string]any{"secretId": sim.User + "/access-key"},
			map[string]any{"arn": secretARN(sim.User + "/access-key"), "name": sim.User + "/access-key", "versionStages": []any{"AWSCURRENT"}},
			analystIP, agent("secretsmanager.put-secret-value"))
		add(step(2*time.Second), responder, "iam.amazonaws.com", "DeleteUserPolicy", map[string]any{"userName": sim.User, "policyName": "ir-containment-deny-all"},
			nil, analystIP, agent("iam.delete-user-policy"))
	}
	t = OldKeysDeletedAt
	for _, sim := range []recording.Simulation{leaked, pipeline} {
		add(step(2*time.Second), responder, "iam.amazonaws.com", "DeleteAccessKey", map[string]any{"userName": sim.User, "accessKeyId": sim.Key.AccessKeyID},
			nil, analystIP, cloudShellUA+"iam.delete-access-key")
	}
	return recs
}

// people makes the records of people at work that the hunting queries
// look for: the administrator's console sign-ins, with MFA, from the office
// address each morning; failed sign-ins from the internet with a user name
// that does not exist (CloudTrail hides it); and the analyst's mistakes: a
// query's results asked for before it finished, and a containment command
// tried with the analyst's read-only role.
func (g *generator) people(r *rand.Rand) []*record {
	var recs []*record
	signIn := func(t time.Time, who identity, ip, result, mfa string) *record {
		rec := &record{
			time: t, UserIdentity: who, EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin", AWSRegion: Region,
			SourceIPAddress: ip, UserAgent: browserUA, EventType: "AwsConsoleSignIn",
			ResponseElements: map[string]any{"ConsoleLogin": result},
			AdditionalEventData: map[string]any{
				"LoginTo":       "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
				"MobileVersion": "No", "MFAUsed": mfa,
			},
		}
		if result != "Success" {
			rec.ErrorMessage = "Failed authentication"
		}
		recs = append(recs, rec)
		return rec
	}
	for _, day := range days {
		signIn(day.Add(8*time.Hour+time.Duration(40*60+r.IntN(15*60))*time.Second), iamUser(adminUser, ""), analystIP, "Success", "Yes")
	}
	hidden := identity{Type: "IAMUser", AccountID: Account, UserName: "HIDDEN_DUE_TO_SECURITY_REASONS"}
	guesser := fmt.Sprintf("203.0.113.%d", 200+r.IntN(50))
	t := days[1].Add(4*time.Hour + time.Duration(r.IntN(3600))*time.Second)
	for range 3 {
		signIn(t, hidden, guesser, "Failure", "No")
		t = t.Add(time.Duration(20+r.IntN(40)) * time.Second)
	}

	analyst := assumedRole("SecurityAnalystRole", "analyst")
	leaked := recording.Simulations[0]
	early := days[1].Add(11*time.Hour + 9*time.Minute + time.Duration(41+r.IntN(15))*time.Second)
	recs = append(recs, &record{
		time: early, UserIdentity: analyst, EventSource: "athena.amazonaws.com", EventName: "GetQueryResults", AWSRegion: Region,
		SourceIPAddress: analystIP, UserAgent: cloudShellUA + "athena.get-query-results", ReadOnly: true,
		RequestParameters: map[string]any{"queryExecutionId": uuid(r)},
		ErrorCode:         "InvalidRequestException", ErrorMessage: "Query has not yet finished. Current state: RUNNING",
	})
	recs = append(recs, &record{
		time: ContainedAt.Add(-4*time.Minute - time.Duration(r.IntN(40))*time.Second), UserIdentity: analyst,
		EventSource: "iam.amazonaws.com", EventName: "UpdateAccessKey", AWSRegion: Region,
		SourceIPAddress: analystIP, UserAgent: cloudShellUA + "iam.update-access-key",
		RequestParameters: map[string]any{"userName": leaked.User, "accessKeyId": leaked.Key.AccessKeyID, "status": "Inactive"},
		ErrorCode:         "AccessDenied",
		ErrorMessage: "User: " + analyst.ARN + " is not authorized to perform: iam:UpdateAccessKey on resource: user " + leaked.User +
			" because no identity-based policy allows the iam:UpdateAccessKey action",
	})
	return recs
}

// madeUser is a user the intruder made, with the key it made for it.
type madeUser struct{ name, key string }

// stagedObject is an object the intruder wrote.
type stagedObject struct{ bucket, key string }

// NewKeyID is the access key that recovery gives a simulation user's
// workload: AKIAINTEGRAT2EXAMPLE, AKIAPIPELINE2EXAMPLE.
func NewKeyID(sim recording.Simulation) string {
	name := strings.ToUpper(sim.User)
	if len(name) > 8 {
		name = name[:8]
	}
	return "AKIA" + name + strings.Repeat("2", 9-len(name)) + "EXAMPLE"
}

// ownerKey is the key a simulation user's workload signs with at t: its
// own until containment, none until recovery, then the new one.
func ownerKey(sim recording.Simulation, t time.Time) string {
	switch {
	case t.Before(ContainedAt):
		return sim.Key.AccessKeyID
	case t.Before(RecoveredAt):
		return ""
	}
	return NewKeyID(sim)
}

// KMS keys of the sample (AWS's documented example key IDs): the key of
// the integration job's secret, and the AWS managed key aws/ssm.
const (
	secretsKey = "1234abcd-12ab-34cd-56ef-1234567890ab"
	ssmKey     = "0987dcba-09fe-87dc-65ba-ab0987654321"
	dataBucket = "amzn-s3-demo-bucket1"
)

func secretARN(name string) string {
	return "arn:aws:secretsmanager:" + Region + ":" + Account + ":secret:" + name + "-a1b2c3"
}

func kmsKeyARN(id string) string { return "arn:aws:kms:" + Region + ":" + Account + ":key/" + id }

// directorySyncReads are the reads of the integration job's run at t, as
// who: it syncs the directory into IAM with a token from Secrets Manager,
// a bind password from Parameter Store (a SecureString) and a group mapping
// from S3; each secret value is decrypted by KMS on the job's behalf. (The
// workshop's integration user may only call IAM; a real job would be
// allowed these reads, and they are what step 7 of the credential exposure
// playbook looks for.)
func directorySyncReads(t time.Time, who identity) []*record {
	const secret, parameter, object = "integration/directory-token", "/integration/ldap-bind-password", "integration/group-mapping.csv"
	via := func(service string) identity {
		w := who
		w.InvokedBy = service
		return w
	}
	decrypt := func(t time.Time, service, key string, context map[string]any) *record {
		return &record{
			time: t, UserIdentity: via(service), EventSource: "kms.amazonaws.com", EventName: "Decrypt", AWSRegion: Region,
			SourceIPAddress: service, UserAgent: service, ReadOnly: true,
			RequestParameters: map[string]any{"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": context},
			Resources:         []resource{{AccountID: Account, Type: "AWS::KMS::Key", ARN: kmsKeyARN(key)}},
		}
	}
	get := s3Request(&record{
		time: t.Add(2 * time.Second), UserIdentity: who, EventSource: "s3.amazonaws.com", EventName: "GetObject", AWSRegion: Region,
		SourceIPAddress: integrationCIIP, UserAgent: ciAgent + "s3api.get-object", ReadOnly: true,
		RequestParameters: map[string]any{"bucketName": dataBucket, "Host": dataBucket + ".s3.amazonaws.com", "key": object},
	}, dataBucket, object, 0, 1824)
	return []*record{
		{
			time: t, UserIdentity: who, EventSource: "secretsmanager.amazonaws.com", EventName: "GetSecretValue", AWSRegion: Region,
			SourceIPAddress: integrationCIIP, UserAgent: ciAgent + "secretsmanager.get-secret-value", ReadOnly: true,
			RequestParameters: map[string]any{"secretId": secret},
		},
		decrypt(t, "secretsmanager.amazonaws.com", secretsKey, map[string]any{"SecretARN": secretARN(secret)}),
		{
			time: t.Add(time.Second), UserIdentity: who, EventSource: "ssm.amazonaws.com", EventName: "GetParameter", AWSRegion: Region,
			SourceIPAddress: integrationCIIP, UserAgent: ciAgent + "ssm.get-parameter", ReadOnly: true,
			RequestParameters: map[string]any{"name": parameter, "withDecryption": true},
		},
		decrypt(t.Add(time.Second), "ssm.amazonaws.com", ssmKey, map[string]any{
			"PARAMETER_ARN": "arn:aws:ssm:" + Region + ":" + Account + ":parameter" + parameter,
		}),
		get,
	}
}

// lockdownPolicy is the staging bucket policy of the credential exposure
// playbook (policies/lockdown-bucket-policy.json) for a bucket, as
// CloudTrail records it.
func lockdownPolicy(bucket string) map[string]any {
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid": "IncidentContainmentDenyAllButBreakGlass", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
			"Resource":  []any{"arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"},
			"Condition": map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": "arn:aws:iam::" + Account + ":role/SecurityBreakGlassRole"}},
		}},
	}
}
