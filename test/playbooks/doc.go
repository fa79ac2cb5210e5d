// Package playbooks checks the incident response playbooks under playbooks/
// against the rest of the repository, so that a responder under stress can
// run what a playbook says as written:
//
//   - every Athena query names only tables and columns that
//     constructs/logschema defines, and filters on date_partition so Athena
//     prunes partitions (sqlref.go extracts the references, schema.go checks
//     them);
//   - every policy document is a valid IAM identity policy whose actions
//     exist in AWS's catalog as cfn-lint ships it (iampolicy.go);
//   - every relative link resolves, every script a playbook runs exists and
//     takes the flags the playbook passes, and the playbooks share one
//     skeleton (markdown.go).
//
// The package imports logschema, which is plain Go; it must not import the
// CDK (constructs/analytics does), so that these checks run in a second.
package playbooks
