// Package nagreason holds the reasons of cdk-nag suppressions that more than
// one construct gives, so that each is written once. A reason that only one
// construct gives stays next to its suppression; a deliberate weakness goes
// through package weakness.
package nagreason

// InlinePolicy is why a role's permissions are an inline policy of that role
// (NIST.800.53.R5-IAMNoInlinePolicy): the grants of the constructs the role
// works with write it, and it belongs to that one role.
const InlinePolicy = "This policy belongs to exactly one role, is written by the grants of the constructs the role works with, and is versioned and reviewed with the template; AWS recommends inline policies for such a one-to-one relationship, and a customer managed policy could be attached elsewhere."
