// Package recording turns what moto_server records of a simulation run
// (MOTO_ENABLE_RECORDING) into the calls that the sample incident's
// CloudTrail records are derived from, and keeps them as a small fixture.
//
// moto 5.2.1 (moto/moto_api/_internal/recorder) appends one JSON object a
// line to its recording file for every request it serves while recording
// is on, except requests to /moto-api/recorder/*:
//
//	{"headers": {...}, "method": "POST", "url": "http://127.0.0.1:PORT/",
//	 "body": "Action=CreateUser&...", "body_encoded": false}
//
// with the body base64 when body_encoded is true. POST
// /moto-api/recorder/reset-recording empties the file, start-recording and
// stop-recording switch recording on and off, and GET download-recording
// returns the file.
//
// A raw recording holds signatures and, in request bodies, whatever the
// scripts sent. Scrub keeps only what the sample logs need (service,
// action, region, which key signed, user agent, request parameters) with
// moto's random identifiers replaced by the documented placeholders and
// secrets removed; that is the fixture committed under
// playbooks/rehearse/testdata/recordings/.
package recording

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Entry is one request of moto's recording.
type Entry struct {
	Headers     map[string]string `json:"headers"`
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	Body        string            `json:"body"`
	BodyEncoded bool              `json:"body_encoded"`
}

// Header returns the value of a header, whatever the case of its name.
func (e Entry) Header(name string) string {
	if v, ok := e.Headers[name]; ok {
		return v
	}
	for k, v := range e.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// BodyBytes returns the request body, decoded from base64 if it was
// recorded so.
func (e Entry) BodyBytes() ([]byte, error) {
	if !e.BodyEncoded {
		return []byte(e.Body), nil
	}
	return base64.StdEncoding.DecodeString(e.Body)
}

// ParseRecording reads moto's recording: one Entry a line.
func ParseRecording(r io.Reader) ([]Entry, error) {
	var entries []Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("recording line %d: %w", n, err)
		}
		entries = append(entries, e)
	}
	return entries, sc.Err()
}

// Call is one AWS API call of a simulation, as the fixture keeps it.
type Call struct {
	// Simulation names the script run that made the call, such as
	// credential_exposure.
	Simulation string `json:"simulation"`
	// Service is the service's signing name: iam, ec2, s3, sts...
	Service string `json:"service"`
	// Action is the API operation: CreateUser, RunInstances, PutObject...
	Action string `json:"action"`
	// Region is the region of the request's signature.
	Region string `json:"region"`
	// Principal names the access key that signed the call (see Scrub).
	Principal string `json:"principal"`
	// UserAgent is the request's User-Agent, as CloudTrail records it.
	UserAgent string `json:"userAgent"`
	// Params are the request parameters, by the API's own names
	// (UserName, ImageId, Bucket...), scrubbed.
	Params map[string]any `json:"params,omitempty"`
}

// Op is a call's (service, action) pair, the sequence a simulation must
// keep.
func (c Call) Op() string { return c.Service + ":" + c.Action }

// ReadFixture reads calls, one JSON object a line.
func ReadFixture(r io.Reader) ([]Call, error) {
	var calls []Call
	dec := json.NewDecoder(r)
	dec.UseNumber()
	for {
		var c Call
		err := dec.Decode(&c)
		if err == io.EOF {
			return calls, nil
		}
		if err != nil {
			return nil, fmt.Errorf("recording fixture, call %d: %w", len(calls)+1, err)
		}
		calls = append(calls, c)
	}
}

// WriteFixture writes calls one JSON object a line, keys sorted, so that
// a refreshed fixture diffs line by line.
func WriteFixture(w io.Writer, calls []Call) error {
	for _, c := range calls {
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		// Re-encode through a map for sorted keys at every level.
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			return err
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// credential is the parsed Credential of a SigV4 Authorization header.
type credential struct {
	accessKeyID, date, region, service string
}

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=AKID/20260314/
// us-east-1/iam/aws4_request, SignedHeaders=..., Signature=...".
func parseAuthorization(h string) (credential, bool) {
	_, rest, ok := strings.Cut(h, "Credential=")
	if !ok {
		return credential{}, false
	}
	scope, _, _ := strings.Cut(rest, ",")
	parts := strings.Split(strings.TrimSpace(scope), "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return credential{}, false
	}
	return credential{accessKeyID: parts[0], date: parts[1], region: parts[2], service: parts[3]}, true
}
