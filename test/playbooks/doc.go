// Package playbooks checks the incident response playbooks under playbooks/
// against the rest of the repository, so that a responder under stress can
// run what a playbook says as written:
//
//   - the query files are numbered, described and shown in the playbook;
//   - every policy document is a valid IAM identity policy whose actions
//     exist in AWS's catalog as cfn-lint ships it;
//   - every relative link resolves, every script a playbook runs exists and
//     takes the flags the playbook passes, and the playbooks share one
//     skeleton.
//
// Whether each query binds to the tables of constructs/logschema and
// filters on date_partition, the rehearsal checks with DuckDB
// (playbooks/rehearse, TestEveryPlaybookQueryReturnsTheResultItsPlaybookShows);
// Athena's limits on a named query, the analytics construct does at synth.
// The package reads the playbooks with package playbook and imports neither
// the CDK nor DuckDB, so that these checks run in a second.
package playbooks
