package recording

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Resolver tells which API operation a recorded request calls, from the
// service models that botocore (the AWS CLI's SDK, which moto depends on)
// ships: the Action parameter for query protocols (IAM, STS, EC2), the
// X-Amz-Target header for JSON protocols (KMS, CloudWatch Logs, Secrets
// Manager, SQS, SSM), and the HTTP method and path template for REST
// protocols (S3, Lambda).
type Resolver struct {
	dir    string
	models map[string]*model
}

type model struct {
	protocol string
	ops      []restOp
}

// restOp is a REST operation's HTTP binding.
type restOp struct {
	name   string
	method string
	path   []string          // segments of the request URI's path
	query  map[string]string // query parameters it requires, with their literal value if any
	// headers are the headers it requires.
	headers []string
}

// NewResolver finds botocore's data directory through python3, as moto
// runs on it.
func NewResolver() (*Resolver, error) {
	out, err := exec.Command("python3", "-c", "import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), 'data'))").Output()
	if err != nil {
		return nil, fmt.Errorf("locating botocore's service models with python3 (moto installs botocore): %w", err)
	}
	return NewResolverAt(strings.TrimSpace(string(out))), nil
}

// NewResolverAt reads service models from a botocore data directory.
func NewResolverAt(dir string) *Resolver {
	return &Resolver{dir: dir, models: map[string]*model{}}
}

// model loads the newest model of a service.
func (r *Resolver) model(service string) (*model, error) {
	if m, ok := r.models[service]; ok {
		return m, nil
	}
	versions, err := filepath.Glob(filepath.Join(r.dir, service, "*", "service-2.json*"))
	if err != nil || len(versions) == 0 {
		return nil, fmt.Errorf("no botocore model for service %q under %s", service, r.dir)
	}
	sort.Strings(versions)
	p := versions[len(versions)-1]
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(p, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	var doc struct {
		Metadata struct {
			Protocol string `json:"protocol"`
		} `json:"metadata"`
		Operations map[string]struct {
			HTTP struct {
				Method     string `json:"method"`
				RequestURI string `json:"requestUri"`
			} `json:"http"`
			Input struct {
				Shape string `json:"shape"`
			} `json:"input"`
		} `json:"operations"`
		Shapes map[string]struct {
			Required []string `json:"required"`
			Members  map[string]struct {
				Location     string `json:"location"`
				LocationName string `json:"locationName"`
			} `json:"members"`
		} `json:"shapes"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	m := &model{protocol: doc.Metadata.Protocol}
	for name, op := range doc.Operations {
		pathPart, queryPart, _ := strings.Cut(op.HTTP.RequestURI, "?")
		ro := restOp{name: name, method: op.HTTP.Method, path: segments(pathPart), query: map[string]string{}}
		if queryPart != "" {
			for _, kv := range strings.Split(queryPart, "&") {
				k, v, _ := strings.Cut(kv, "=")
				ro.query[k] = v
			}
		}
		// Required inputs bound to a header or a query parameter tell
		// apart operations on one path: CopyObject needs
		// x-amz-copy-source where PutObject does not.
		input := doc.Shapes[op.Input.Shape]
		for _, req := range input.Required {
			member := input.Members[req]
			switch member.Location {
			case "header":
				ro.headers = append(ro.headers, member.LocationName)
			case "querystring":
				if _, ok := ro.query[member.LocationName]; !ok {
					ro.query[member.LocationName] = ""
				}
			}
		}
		m.ops = append(m.ops, ro)
	}
	sort.Slice(m.ops, func(i, j int) bool { return m.ops[i].name < m.ops[j].name })
	r.models[service] = m
	return m, nil
}

// segments splits a URI path into segments, without empty ones.
func segments(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Resolve returns the call a recorded request makes. Its Principal is the
// access key ID that signed it, and Simulation is empty: Scrub and the
// caller fill them.
func (r *Resolver) Resolve(e Entry) (Call, error) {
	cred, ok := parseAuthorization(e.Header("Authorization"))
	if !ok {
		return Call{}, fmt.Errorf("%s %s: no SigV4 Authorization header", e.Method, e.URL)
	}
	m, err := r.model(cred.service)
	if err != nil {
		return Call{}, err
	}
	u, err := url.Parse(e.URL)
	if err != nil {
		return Call{}, fmt.Errorf("%s: %w", e.URL, err)
	}
	body, err := e.BodyBytes()
	if err != nil {
		return Call{}, fmt.Errorf("%s %s: body: %w", e.Method, e.URL, err)
	}
	c := Call{
		Service:   cred.service,
		Region:    cred.region,
		Principal: cred.accessKeyID,
		UserAgent: e.Header("User-Agent"),
		Params:    map[string]any{},
	}
	switch m.protocol {
	case "query", "ec2":
		form := u.Query()
		if strings.HasPrefix(e.Header("Content-Type"), "application/x-www-form-urlencoded") {
			if form, err = url.ParseQuery(string(body)); err != nil {
				return Call{}, fmt.Errorf("%s: form body: %w", cred.service, err)
			}
		}
		c.Action = form.Get("Action")
		for k, v := range form {
			if k != "Action" && k != "Version" && len(v) > 0 {
				c.Params[k] = v[0]
			}
		}
	case "json":
		_, c.Action, _ = strings.Cut(e.Header("X-Amz-Target"), ".")
		if err := decodeJSONInto(body, c.Params); err != nil {
			return Call{}, fmt.Errorf("%s %s: %w", cred.service, c.Action, err)
		}
	case "rest-json", "rest-xml":
		op, vars, ok := m.match(e, u)
		if !ok {
			return Call{}, fmt.Errorf("%s: no operation of the botocore model matches %s %s", cred.service, e.Method, u.Path)
		}
		c.Action = op.name
		for k, v := range vars {
			c.Params[k] = v
		}
		for k, v := range u.Query() {
			if _, literal := op.query[k]; !literal && len(v) > 0 {
				c.Params[k] = v[0]
			}
		}
		if m.protocol == "rest-json" && strings.Contains(e.Header("Content-Type"), "json") {
			if err := decodeJSONInto(body, c.Params); err != nil {
				return Call{}, fmt.Errorf("%s %s: %w", cred.service, c.Action, err)
			}
		}
	default:
		return Call{}, fmt.Errorf("service %s: protocol %q is not one the resolver reads", cred.service, m.protocol)
	}
	if c.Action == "" {
		return Call{}, fmt.Errorf("%s %s (%s): cannot tell the action", e.Method, e.URL, cred.service)
	}
	if len(c.Params) == 0 {
		c.Params = nil
	}
	return c, nil
}

// decodeJSONInto merges a JSON object body into params; an empty body is
// no parameters.
func decodeJSONInto(body []byte, params map[string]any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return fmt.Errorf("JSON body: %w", err)
	}
	for k, v := range obj {
		params[k] = v
	}
	return nil
}

// match finds the REST operation whose method and path template fit the
// request best: every literal segment equal, every required query
// parameter and header present, the most literal segments, then the most
// required parameters and headers, winning. It returns
// the values of the template's {variables}.
func (m *model) match(e Entry, u *url.URL) (restOp, map[string]string, bool) {
	path := segments(u.EscapedPath())
	for i, s := range path {
		if un, err := url.PathUnescape(s); err == nil {
			path[i] = un
		}
	}
	query := u.Query()
	var best restOp
	var bestVars map[string]string
	bestScore := -1
	for _, op := range m.ops {
		if op.method != e.Method {
			continue
		}
		vars, literals, ok := matchPath(op.path, path)
		if !ok {
			continue
		}
		for k, v := range op.query {
			if !query.Has(k) || (v != "" && query.Get(k) != v) {
				ok = false
				break
			}
		}
		for _, h := range op.headers {
			if e.Header(h) == "" {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if score := literals*100 + (len(op.query)+len(op.headers))*10; score > bestScore {
			best, bestVars, bestScore = op, vars, score
		}
	}
	return best, bestVars, bestScore >= 0
}

// matchPath matches path segments against a template's: {Name} takes one
// segment, {Name+} the rest.
func matchPath(tmpl, path []string) (map[string]string, int, bool) {
	vars := map[string]string{}
	literals := 0
	for i, t := range tmpl {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "+}") {
			if i >= len(path) {
				return nil, 0, false
			}
			vars[strings.TrimSuffix(strings.TrimPrefix(t, "{"), "+}")] = strings.Join(path[i:], "/")
			return vars, literals, true
		}
		if i >= len(path) {
			return nil, 0, false
		}
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			vars[strings.TrimSuffix(strings.TrimPrefix(t, "{"), "}")] = path[i]
			continue
		}
		if t != path[i] {
			return nil, 0, false
		}
		literals++
	}
	if len(tmpl) != len(path) {
		return nil, 0, false
	}
	return vars, literals, true
}
