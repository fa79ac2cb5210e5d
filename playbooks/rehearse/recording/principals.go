package recording

// Simulation is one simulation script whose calls the sample incident
// replays.
type Simulation struct {
	// Name is the fixture's simulation field and file name:
	// testdata/recordings/NAME.jsonl.
	Name string
	// Script is the script under scripts/ that the recording test runs.
	Script string
	// Args are the script's arguments in the recording run.
	Args []string
	// Key is the access key that the script is given: the profile it uses
	// by default holds a key of User, which the sample logs show as
	// Key.AccessKeyID.
	Key Principal
	// User is the SimulationStack IAM user whose key the script is given.
	User string
	// Profile is the AWS CLI profile that the script uses by default.
	Profile string
	// RunID is the run ID the fixture shows in place of the run's own
	// (new_id in scripts/lib/common.sh: PREFIX-YYYYMMDD-HHMMSS-HEX). Its
	// time is when the sample incident's replay of the run starts.
	RunID string
}

// Simulations are the simulations of the sample incident: the credential
// exposure and the crypto mining, in the order they happen, then the S3
// exfiltration, an incident of its own the day before, and the S3
// ransomware, an incident of its own two days before.
var Simulations = []Simulation{
	{
		Name:    "credential_exposure",
		Script:  "simulate-credential-exposure.sh",
		Key:     Principal{Name: "leaked", AccessKeyID: "AKIAIOSFODNN7EXAMPLE"},
		User:    "integration",
		Profile: "credential_exposure",
		RunID:   "ce-20260101-091412-5c2e8a17",
	},
	{
		Name:    "crypto_mining",
		Script:  "simulate-crypto-mining.sh",
		Key:     Principal{Name: "pipeline", AccessKeyID: "AKIAPIPELINE0EXAMPLE"},
		User:    "pipeline",
		Profile: "crypto_mining",
		RunID:   "cm-20260101-100231-9d41f06b",
	},
	{
		Name:    "s3_exfiltration",
		Script:  "simulate-s3-exfiltration.sh",
		Key:     Principal{Name: "reporting", AccessKeyID: "AKIAREPORTINGEXAMPLE"},
		User:    "reporting",
		Profile: "s3_exfiltration",
		RunID:   "se-20251231-083012-4b8e21c9",
	},
	{
		Name:    "s3_ransomware",
		Script:  "simulate-s3-ransomware.sh",
		Key:     Principal{Name: "ingest", AccessKeyID: "AKIAINGESTKEYEXAMPLE"},
		User:    "ingest",
		Profile: "s3_ransomware",
		RunID:   "sr-20251230-071503-7f3a9c2e",
	},
}

// KMSKeyID is the documented example KMS key ID that the fixtures show in
// place of the key a run creates.
const KMSKeyID = "1234abcd-12ab-34cd-56ef-1234567890ab"

// MotoAccount is the account ID that moto gives everything; the fixture
// shows the workshop's placeholder account instead.
const MotoAccount = "123456789012"

// Account is the documented placeholder account of the sample incident.
const Account = "111122223333"
