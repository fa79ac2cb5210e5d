package simulation

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// workshop is the emulated account the scripts run in: both stacks deployed,
// the simulation profiles configured by configure-simulation-profiles.sh,
// and resources made before and outside any simulation.
type workshop struct {
	s *moto.Server
	// env is a responder's environment: the emulator's administrator key
	// (standing in for the break glass role) in AWS_ACCESS_KEY_ID, and AWS
	// CLI files with the profiles credential_exposure and crypto_mining, and
	// the failure tests' profiles revoked and keyless.
	env []string
	// dir outlives the subtests: simulation runs write their state files
	// into directories under it.
	dir string
	// iam, s3 and kms read as env's key does, through the AWS SDK for Go:
	// for the checks that only read (see moto.Server.SDKConfig).
	iam *iam.Client
	s3  *s3.Client
	kms *kms.Client

	vpcID            string   // the workshop VPC
	publicSubnets    []string // its public subnets
	workshopInstance string   // WorkshopStack's instance
	ami              string   // what the public AL2023 parameter resolves to
	userData         string   // scripts/crypto-mining-user-data.sh

	other bystanders
	// baseline is the inventory before any run: what requireRunsUndone
	// compares the account's own resources with.
	baseline inventory
	// undone maps the ID of each run that a case undid to the case.
	undone map[string]string
	mu     sync.Mutex
}

// bystanders exist before any simulation runs; no script may change them.
type bystanders struct {
	user, userKey    string // an administrator IAM user and its key
	bucket, object   string // a bucket and an object in it
	vpcID, subnetID  string // a second VPC, with a subnet tagged Public
	instanceID       string // an instance in that VPC
	instanceGroups   []string
	workshopGroups   []string // the security groups of WorkshopStack's instance
	workshopInstance string
}

// The simulation users' secrets, as SimulationStack stores them: stack output
// naming the secret, and IAM user.
var simulationSecrets = []struct{ output, user string }{
	{"CredentialExposureSecretName", "integration"},
	{"CryptoMiningSecretName", "pipeline"},
}

// newWorkshop makes a new account on the package's emulator, which checks
// credentials and IAM policies, deploys both templates into it, configures
// the simulation profiles, creates the bystanders and takes the baseline
// inventory.
func newWorkshop(t *testing.T) *workshop {
	t.Helper()
	w := newWorkshopWithoutBaseline(t)
	w.baseline = takeInventory(t, w)
	return w
}

// newWorkshopWithoutBaseline is newWorkshop for a caller that changes the
// account further before it takes the baseline itself (newS3Workshop).
func newWorkshopWithoutBaseline(t *testing.T) *workshop {
	t.Helper()
	s := emulator.Server(t)
	env := moto.WithEnv(s.NewAccount(t), "IR_WORKSHOP_RETRY_DELAY=0")
	w := &workshop{s: s, env: env, dir: t.TempDir()}
	cfg := s.SDKConfig(t, env)
	w.iam, w.kms = iam.NewFromConfig(cfg), kms.NewFromConfig(cfg)
	w.s3 = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })

	var param struct{ Parameter struct{ Value string } }
	out, err := s.AWS(t, env, "ssm", "get-parameter", "--name", amiParameter)
	if err != nil {
		t.Fatalf("moto does not serve %s, which the crypto mining simulation and WorkshopStack read: %v", amiParameter, err)
	}
	if err := json.Unmarshal([]byte(out), &param); err != nil {
		t.Fatal(err)
	}
	w.ami = param.Parameter.Value

	var workshopOut, simulationOut map[string]string
	deployed := t.Run("Deploy", func(t *testing.T) {
		t.Run("WorkshopStack", func(t *testing.T) {
			t.Parallel()
			workshopOut = moto.DeployTemplate(t, s, env, "WorkshopStack", workshopTemplate, nil)
		})
		t.Run("SimulationStack", func(t *testing.T) {
			t.Parallel()
			simulationOut = moto.DeployTemplate(t, s, env, "SimulationStack", simulationTemplate, nil)
		})
	})
	if !deployed {
		t.FailNow()
	}
	w.vpcID, w.workshopInstance = workshopOut["VpcId"], workshopOut["InstanceId"]
	if w.vpcID == "" || w.workshopInstance == "" {
		t.Fatalf("WorkshopStack outputs %v lack VpcId or InstanceId", workshopOut)
	}

	// moto's CloudFormation creates no AWS::SecretsManager::Secret (see
	// moto.UnmodeledTypes), so the test stores each simulation user's secret
	// itself, as test/e2e does: a new access key of the user the stack
	// created, under the template's secret name, in the JSON shape the
	// template's SecretString has. The stack's outputs name those secrets.
	provisioned := map[string]string{} // secret name → IAM user
	for _, sec := range moto.ProvisionSimulationSecrets(t, s, env, simulationTemplate) {
		provisioned[sec.Name] = sec.User
	}
	for _, sec := range simulationSecrets {
		name := simulationOut[sec.output]
		if name == "" {
			t.Fatalf("SimulationStack has no output %s", sec.output)
		}
		if user, ok := provisioned[name]; !ok || user != sec.user {
			t.Fatalf("SimulationStack output %s names secret %s, which is not the secret of user %s (secrets: %v)", sec.output, name, sec.user, provisioned)
		}
	}
	mustSucceed(t, runScript(t, "", env, "configure-simulation-profiles.sh"), "configure-simulation-profiles.sh")

	// moto authorizes every request against resource "*", so a statement
	// scoped to one resource never matches: the pipeline user's
	// ssm:GetParameter on the AL2023 parameter would be denied. The test
	// grants the same two actions on "*" in the emulator only.
	s.MustAWS(t, env, "iam", "put-user-policy", "--user-name", "pipeline", "--policy-name", "moto-resource-wildcard",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameters"],"Resource":"*"}]}`)

	// Profiles for the failure tests, written now: later subtests run in
	// parallel and read these files.
	//   revoked: a key the emulator never issued; no region configured.
	//   keyless: a "leaked" key allowed to create and empower a user but not
	//            to give it an access key (step 3 of the credential exposure
	//            simulation).
	//   no-s3:   a responder allowed IAM and EC2 but no S3 action.
	s.MustAWS(t, env, "configure", "set", "aws_access_key_id", "AKIAIOSFODNN7EXAMPLE", "--profile", "revoked")
	s.MustAWS(t, env, "configure", "set", "aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "--profile", "revoked")
	s.MustAWS(t, env, "iam", "create-user", "--user-name", "integration-keyless")
	s.MustAWS(t, env, "iam", "put-user-policy", "--user-name", "integration-keyless", "--policy-name", "AllButAccessKeys",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateUser","iam:TagUser","iam:AttachUserPolicy","iam:GetUser"],"Resource":"*"}]}`)
	var keyless struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	s.MustAWSJSON(t, env, &keyless, "iam", "create-access-key", "--user-name", "integration-keyless")
	s.MustAWS(t, env, "configure", "set", "aws_access_key_id", keyless.AccessKey.AccessKeyId, "--profile", "keyless")
	s.MustAWS(t, env, "configure", "set", "aws_secret_access_key", keyless.AccessKey.SecretAccessKey, "--profile", "keyless")
	s.MustAWS(t, env, "configure", "set", "region", moto.Region, "--profile", "keyless")
	s.MustAWS(t, env, "iam", "create-user", "--user-name", "responder-without-s3")
	s.MustAWS(t, env, "iam", "put-user-policy", "--user-name", "responder-without-s3", "--policy-name", "IamAndEc2Only",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","ec2:*","sts:GetCallerIdentity"],"Resource":"*"}]}`)
	var noS3 struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	s.MustAWSJSON(t, env, &noS3, "iam", "create-access-key", "--user-name", "responder-without-s3")
	s.MustAWS(t, env, "configure", "set", "aws_access_key_id", noS3.AccessKey.AccessKeyId, "--profile", "no-s3")
	s.MustAWS(t, env, "configure", "set", "aws_secret_access_key", noS3.AccessKey.SecretAccessKey, "--profile", "no-s3")

	var subnets struct{ Subnets []struct{ SubnetId string } }
	s.MustAWSJSON(t, env, &subnets, "ec2", "describe-subnets", "--filters",
		"Name=vpc-id,Values="+w.vpcID, "Name=tag:aws-cdk:subnet-type,Values=Public")
	for _, sn := range subnets.Subnets {
		w.publicSubnets = append(w.publicSubnets, sn.SubnetId)
	}
	if len(w.publicSubnets) == 0 {
		t.Fatalf("the workshop VPC %s has no public subnet", w.vpcID)
	}
	w.userData = readFile(t, scriptsDir+"/crypto-mining-user-data.sh")

	w.other = newBystanders(t, w)
	// The inventory reads access keys from the credential report, which must
	// have been generated once.
	s.MustAWS(t, env, "iam", "generate-credential-report")
	return w
}

// runDir returns a new directory for a simulation run's state file, kept
// until the whole test ends.
func (w *workshop) runDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(w.dir, "run")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// newBystanders creates what exists before any simulation: an administrator
// user with a key (like the persistence user), a bucket with an object (like
// the recon bucket), and a second VPC whose subnet is tagged Public, with an
// instance in it.
func newBystanders(t *testing.T, w *workshop) bystanders {
	t.Helper()
	s, env := w.s, w.env
	// S3 bucket names are global, across the emulator's accounts too.
	var account struct{ Account string }
	s.MustAWSJSON(t, env, &account, "sts", "get-caller-identity")
	b := bystanders{user: "bystander-admin", bucket: "ir-workshop-bystander-" + account.Account, object: "notes/evidence.txt",
		workshopInstance: w.workshopInstance}
	s.MustAWS(t, env, "iam", "create-user", "--user-name", b.user)
	s.MustAWS(t, env, "iam", "attach-user-policy", "--user-name", b.user, "--policy-arn", adminPolicyArn)
	var key struct{ AccessKey struct{ AccessKeyId string } }
	s.MustAWSJSON(t, env, &key, "iam", "create-access-key", "--user-name", b.user)
	b.userKey = key.AccessKey.AccessKeyId

	s.MustAWS(t, env, "s3api", "create-bucket", "--bucket", b.bucket)
	s.MustAWS(t, env, "s3api", "put-object", "--bucket", b.bucket, "--key", b.object,
		"--body", writeFile(t, "evidence.txt", "made before the simulations\n"))

	var vpc struct{ Vpc struct{ VpcId string } }
	s.MustAWSJSON(t, env, &vpc, "ec2", "create-vpc", "--cidr-block", "10.1.0.0/16")
	b.vpcID = vpc.Vpc.VpcId
	var subnet struct{ Subnet struct{ SubnetId string } }
	s.MustAWSJSON(t, env, &subnet, "ec2", "create-subnet", "--vpc-id", b.vpcID, "--cidr-block", "10.1.0.0/24",
		"--tag-specifications", `[{"ResourceType":"subnet","Tags":[{"Key":"aws-cdk:subnet-type","Value":"Public"}]}]`)
	b.subnetID = subnet.Subnet.SubnetId
	s.MustAWS(t, env, "ec2", "modify-subnet-attribute", "--subnet-id", b.subnetID, "--map-public-ip-on-launch")
	var launched struct{ Instances []struct{ InstanceId string } }
	s.MustAWSJSON(t, env, &launched, "ec2", "run-instances", "--image-id", w.ami, "--instance-type", "t3.micro",
		"--subnet-id", b.subnetID)
	b.instanceID = launched.Instances[0].InstanceId
	b.instanceGroups = groupsOf(describeInstance(t, s, env, b.instanceID))
	b.workshopGroups = groupsOf(describeInstance(t, s, env, w.workshopInstance))
	return b
}

// groupsOf returns the security groups of every network interface of an
// instance, sorted.
func groupsOf(in instance) []string {
	var groups []string
	for _, eni := range in.NetworkInterfaces {
		for _, g := range eni.Groups {
			groups = append(groups, g.GroupID)
		}
	}
	slices.Sort(groups)
	return groups
}

// requireBystandersUntouched fails the test if a script changed anything it
// did not create.
func requireBystandersUntouched(t *testing.T, w *workshop) {
	t.Helper()
	s, env, b := w.s, w.env, w.other
	ctx := context.Background()
	user := &iam.GetUserInput{UserName: aws.String(b.user)}
	if _, err := w.iam.GetUser(ctx, user); errorCode(err) == "NoSuchEntity" {
		t.Fatalf("IAM user %s, made before the simulations, is gone", b.user)
	} else if err != nil {
		t.Fatal(err)
	}
	attached, err := w.iam.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: user.UserName})
	if err != nil {
		t.Fatal(err)
	}
	if len(attached.AttachedPolicies) != 1 || aws.ToString(attached.AttachedPolicies[0].PolicyArn) != adminPolicyArn {
		t.Errorf("IAM user %s has policies %s, want only %s", b.user, jsonText(t, attached.AttachedPolicies), adminPolicyArn)
	}
	keys, err := w.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: user.UserName})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != b.userKey || keys.AccessKeyMetadata[0].Status != "Active" {
		t.Errorf("IAM user %s has keys %s, want only %s, Active", b.user, jsonText(t, keys.AccessKeyMetadata), b.userKey)
	}
	inline, err := w.iam.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: user.UserName})
	if err != nil {
		t.Fatal(err)
	}
	if len(inline.PolicyNames) != 0 {
		t.Errorf("IAM user %s got inline policies %v", b.user, inline.PolicyNames)
	}
	if _, err := w.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(b.object)}); err != nil {
		t.Errorf("object s3://%s/%s, made before the simulations: %v", b.bucket, b.object, err)
	}
	if got := liveInstances(t, s, env, b.vpcID); !slices.Equal(got, []string{b.instanceID}) {
		t.Errorf("the second VPC %s has instances %v, want only %s", b.vpcID, got, b.instanceID)
	}
	for _, c := range []struct {
		id     string
		groups []string
	}{{b.instanceID, b.instanceGroups}, {b.workshopInstance, b.workshopGroups}} {
		in := describeInstance(t, s, env, c.id)
		if in.State.Name != "running" {
			t.Errorf("instance %s is %s, want running", c.id, in.State.Name)
		}
		if got := groupsOf(in); !slices.Equal(got, c.groups) {
			t.Errorf("instance %s has security groups %v, want %v as before", c.id, got, c.groups)
		}
		if terminationProtected(t, s, env, c.id) {
			t.Errorf("instance %s got termination protection", c.id)
		}
		if v := tagValue(in.Tags, incidentTagKey); v != "" {
			t.Errorf("instance %s got tag %s=%s", c.id, incidentTagKey, v)
		}
	}
}
