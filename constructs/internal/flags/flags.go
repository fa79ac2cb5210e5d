// Package flags pins the CDK feature flags a construct's resources depend
// on, so the construct synthesizes the same in any app, whatever the app's
// cdk.json turns on.
package flags

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// AccessLogsByBucketPolicy makes buckets under c that write server access
// logs grant the S3 logging service through the target bucket's policy.
// Without the flag, CDK gives the target bucket the LogDeliveryWrite ACL,
// which a bucket with ACLs disabled (BucketOwnerEnforced) cannot have.
//
// Call it on a new construct before adding children: CDK reads a flag from
// the nearest scope that sets it.
func AccessLogsByBucketPolicy(c constructs.Construct) {
	c.Node().SetContext(jsii.String("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"), true)
}
