package moto

import (
	"os"
	"strings"
)

// CDKEnv returns an environment for the CDK CLI (and make targets that run
// it) that reaches only this server: the process's own environment, for
// PATH, HOME and the Go and Node settings the CLI needs to run the app, with
// every AWS_* and CDK_* variable replaced by Env's (but CDK_VALIDATION, which
// make test sets for every synthesis in tests), and the endpoint written as
// http://localhost:PORT. moto reads the TemplateURL that the CLI passes
// to CloudFormation (the template staged in the bootstrap bucket) as a
// path-style S3 URL when its host is localhost, not when it is 127.0.0.1.
// MAKEFLAGS and MAKELEVEL are dropped, so a make run inside `make test`
// starts afresh.
func (s *Server) CDKEnv(accessKeyID, secretKey string) []string {
	var env []string
	for _, kv := range os.Environ() {
		key, _, _ := strings.Cut(kv, "=")
		keep := key == "CDK_VALIDATION" // make test's choice for every synthesis in tests
		if !keep && (strings.HasPrefix(key, "AWS_") || strings.HasPrefix(key, "CDK_") || key == "MAKEFLAGS" || key == "MAKELEVEL" || key == "MFLAGS") {
			continue
		}
		env = append(env, kv)
	}
	for _, kv := range s.Env(accessKeyID, secretKey) {
		if key, _, _ := strings.Cut(kv, "="); key != "PATH" && key != "HOME" {
			env = append(env, kv)
		}
	}
	return WithEnv(env,
		"AWS_ENDPOINT_URL="+s.LocalhostURL(),
		"CDK_DISABLE_VERSION_CHECK=true",
	)
}

// LocalhostURL is the server's endpoint with the host written localhost.
func (s *Server) LocalhostURL() string {
	return strings.Replace(s.URL, "//127.0.0.1:", "//localhost:", 1)
}
