#!/usr/bin/env bash
# seed-data-bucket.sh: fill SimulationStack's data bucket with the generated
# business records that the S3 simulations attack.
#
# What it does, with the caller's credentials (-p; an administrator or the
# break glass role, not a simulation user):
#   1. checks that the data bucket (-b, default ir-workshop-data-ACCOUNT-REGION)
#      is versioned, and that no record is deleted: a record whose latest
#      version is a delete marker means a ransomware run that is not undone
#      yet, so the script stops and says so rather than write over it;
#   2. writes every record that is missing under records/ (aws s3 sync
#      --size-only): a second run writes nothing.
#
# The records are generated here, the same bytes every time: customers,
# products, monthly invoices and quarterly orders of fictional companies.
# They hold no real personal data: the people are the example names of the
# AWS documentation, their addresses are at example.com, and nothing else
# about them is recorded.
#
# What it creates: the records' objects (one version each) under records/.
# They belong to the workshop, not to a run: no simulation's undo removes
# them, and a simulation's undo puts them back as they were.
#
# What GuardDuty and CloudTrail should show: ListObjectVersions,
# ListObjectsV2 and PutObject (S3 data events) by the caller.
#
# Undo: delete the bucket's objects, or SimulationStack's data bucket with
# them (see the README, Clean up).
#
# Exit status: 0 the records are there, 1 a step failed or the bucket shows
# an attack that is not undone, 2 bad usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

usage() {
  cat <<EOF
Usage: $IR_PROG [-p PROFILE] [-r REGION] [-b BUCKET]

Write the generated business records that the S3 simulations attack into
the data bucket of SimulationStack, where they are missing.

  -p PROFILE  AWS CLI profile allowed to write the bucket
              (default: \$AWS_PROFILE, else the default credential chain)
  -r REGION   region of the bucket (default: \$AWS_REGION,
              \$AWS_DEFAULT_REGION, then the profile's region)
  -b BUCKET   the data bucket (default: ir-workshop-data-ACCOUNT-REGION,
              SimulationStack's output DataBucketName)
  -h          show this help
EOF
}

bucket=""
while getopts ':p:r:b:h' opt; do
  case "$opt" in
    b) check_value b "$OPTARG"; bucket="$OPTARG" ;;
    *) common_option "$opt" "${OPTARG:-}" ;;
  esac
done
shift $((OPTIND - 1))
no_operands "$@"
if [[ -n "$bucket" ]]; then
  require_pattern b "$bucket" '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' "an S3 bucket name"
fi
resolve_region
ir_init
check_identity
bucket="${bucket:-$(data_bucket_name)}"

# Step 1: versioned, and no record deleted.
if ! versioning="$(awsx s3api get-bucket-versioning --bucket "$bucket" \
  --expected-bucket-owner "$caller_account" --query Status --output text)"; then
  aws_die "cannot read the versioning of S3 bucket $bucket: is SimulationStack deployed in $aws_region (or pass -b BUCKET)?" \
    s3:GetBucketVersioning
fi
if [[ "$versioning" != Enabled ]]; then
  die "S3 bucket $bucket is not versioned (versioning: $versioning): the S3 simulations rely on versions to be undone; use SimulationStack's data bucket"
fi
versions="$IR_TMP/versions.json"
list_all_versions "$bucket" "$versions" || aws_die "cannot list the record versions in S3 bucket $bucket" s3:ListBucketVersions
deleted="$(jq -c '[.DeleteMarkers // [] | .[] | select(.IsLatest and (.Key | startswith("records/"))) | .Key]' "$versions")"
if [[ "$deleted" != "[]" ]]; then
  die "$(jq 'length' <<<"$deleted") records of S3 bucket $bucket are deleted (their latest version is a delete marker), as a ransomware run leaves them: undo that run first (undo-s3-ransomware.sh), which restores them; nothing was written" \
    "$(jq -r '.[:5][]' <<<"$deleted")"
fi

# Step 2: the records, generated into a private directory, then copied where
# missing.
root="$IR_TMP/bucket"
records="$root/records"
mkdir -p "$records/customers" "$records/products" "$records/invoices/2025" "$records/orders/2025"

people=("Mary Major" "Richard Roe" "Jane Doe" "John Doe" "Carlos Salazar" "Nikki Wolf"
  "Paulo Santos" "Saanvi Sarkar" "Shirley Rodriguez" "Wang Xiulan" "Zhang Wei" "Arnav Desai"
  "Diego Ramirez" "Jorge Souza" "Kwaku Mensah" "Li Juan" "Martha Rivera" "Mateo Jackson"
  "Akua Mansa" "Alejandro Rosalez" "Efua Owusu" "John Stiles" "Liu Jie" "Maria Garcia")
companies=("AnyCompany" "Example Corp" "AnyCompany Financial" "Example Industries"
  "AnyCompany Logistics" "Example Retail" "AnyCompany Health" "Example Media")
countries=(US DE FR JP BR IN GB CA)
segments=(enterprise mid-market small-business)
products=("Standard support plan" "Premium support plan" "Data pipeline license"
  "Analytics seat" "Storage add-on (1 TB)" "Training day" "Onboarding package" "API gateway tier")
prices=(1200 4800 9600 350 240 1800 2500 600)

{
  echo "customer_id,company,contact,email,country,segment,customer_since"
  for ((i = 0; i < ${#people[@]}; i++)); do
    name="${people[i]}"
    email="$(tr 'A-Z ' 'a-z.' <<<"$name")@example.com"
    printf 'C%04d,%s,%s,%s,%s,%s,20%02d-%02d-01\n' $((1001 + i)) "${companies[i % 8]}" "$name" "$email" \
      "${countries[(i * 3) % 8]}" "${segments[i % 3]}" $((18 + i % 7)) $((1 + (i * 5) % 12))
  done
} >"$records/customers/customers.csv"

{
  echo "sku,name,unit_price_usd"
  for ((i = 0; i < ${#products[@]}; i++)); do
    printf 'SKU-%03d,%s,%d.00\n' $((101 + i)) "${products[i]}" "${prices[i]}"
  done
} >"$records/products/catalog.csv"

invoice=0
for month in 01 02 03 04 05 06 07 08 09 10 11 12; do
  {
    echo "invoice_id,customer_id,issued,due,sku,quantity,amount_usd,status"
    for ((i = 0; i < 8; i++)); do
      invoice=$((invoice + 1))
      customer=$((1001 + (invoice * 7) % ${#people[@]}))
      sku=$(((invoice * 5) % 8))
      quantity=$((1 + invoice % 4))
      status=paid
      if [[ "$month" == 12 && $i -ge 5 ]]; then
        status=open
      fi
      printf 'INV-2025-%04d,C%04d,2025-%s-%02d,2025-%s-%02d,SKU-%03d,%d,%d.00,%s\n' "$invoice" "$customer" \
        "$month" $((1 + i * 3)) "$month" 28 $((101 + sku)) "$quantity" $((prices[sku] * quantity)) "$status"
    done
  } >"$records/invoices/2025/invoices-2025-$month.csv"
done

order=0
for quarter in 1 2 3 4; do
  for ((i = 0; i < 10; i++)); do
    order=$((order + 1))
    customer=$((1001 + (order * 11) % ${#people[@]}))
    sku=$(((order * 3) % 8))
    printf '{"order_id":"ORD-2025-%05d","customer_id":"C%04d","quarter":"2025-Q%d","sku":"SKU-%03d","quantity":%d,"channel":"%s"}\n' \
      $((order + 40000)) "$customer" "$quarter" $((101 + sku)) $((1 + order % 5)) "$([[ $((order % 3)) == 0 ]] && echo partner || echo direct)"
  done >"$records/orders/2025/orders-2025-Q$quarter.jsonl"
done

count="$(find "$records" -type f | wc -l | tr -d ' ')"
# The whole bucket is synced (only records/ is local), not s3://BUCKET/records/:
# see list_all_versions.
if ! awsx s3 sync "$root" "s3://$bucket/" --size-only --no-progress --only-show-errors >/dev/null; then
  aws_die "cannot write the records to s3://$bucket/records/" "s3:PutObject and s3:ListBucket"
fi
echo "S3 bucket $bucket: the $count records are under records/ (written where missing)."
