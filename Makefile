# Every project command runs jsii and the CDK CLI on the Node.js 22 that
# package.json pins (node_modules/.bin/node), never on the machine's own Node.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

NODE_BIN := $(CURDIR)/node_modules/.bin
export PATH := $(NODE_BIN):$(PATH)
export JSII_NODE := $(NODE_BIN)/node

STACKS := WorkshopStack SimulationStack
TEMPLATES := $(addprefix cdk.out/,$(addsuffix .yaml,$(STACKS)))
SHELL_SCRIPTS = .ci/run $(wildcard scripts/*.sh scripts/lib/*.sh)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: help setup tools synth app app-modules test checks vet staticcheck unit unit-first unit-rest drift lint-templates lint-shell lint-markdown bench bench-synth bench-test deploy diff destroy check-stack clean

help:
	@echo "make synth    install what is missing, then write $(TEMPLATES)"
	@echo "make test     every check CI runs"
	@echo "make bench    where the time goes: synth ratio to an empty stack, test time by package and test, AWS CLI calls"
	@echo "make deploy|diff|destroy STACK=<$(subst $() ,|,$(STACKS))> [ARGS=...]   the CDK CLI on one stack"

## setup: Node 22, the CDK CLI and Go modules, as pinned in the lock files.
## npm and Go download side by side (-O keeps each one's output together).
setup:
	@$(MAKE) -j2 -O node_modules/.package-lock.json .build/go-mod.stamp

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@"$(JSII_NODE)" --version | grep -q '^v22\.' || { echo "setup: node_modules/.bin/node is not Node.js 22" >&2; exit 1; }

.build/go-mod.stamp: go.mod go.sum
	go mod download
	go mod verify
	@mkdir -p .build && touch $@

## tools: the linters and emulator that make test needs besides setup.
tools:
	@command -v shellcheck >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq shellcheck >/dev/null; }
	@for tool in cfn-lint jq aws moto_server; do \
	  command -v $$tool >/dev/null || { echo "tools: $$tool is missing; install it (see README, Prerequisites)" >&2; exit 1; }; \
	done

## synth: a first synth on a fresh clone installs Node.js and the CLI while Go
## downloads the modules the app needs and compiles it (the longest step);
## cdk.json's own go build then finds the binary up to date.
synth:
	@echo "synth: npm ci (Node.js 22, the CDK CLI) and the app's Go build run side by side; each one's output shows when it ends"
	@$(MAKE) -j2 -O node_modules/.package-lock.json app
	cdk synth --quiet
	@echo "wrote $(TEMPLATES)"

## APP_MODULES: the modules the app builds from, and only those: go mod
## download fetches them in parallel (go build alone fetched one after
## another), and skips what only the tests need (DuckDB's libraries for five
## platforms, staticcheck): 5 s instead of 18 s, and 0.4 GB instead of 1.4 GB
## unpacked. make setup downloads every module.
## TestMakefileDownloadsWhatTheAppBuilds (test/makefile_test.go)
## keeps the list equal to what `go list -deps` reports.
APP_MODULES := \
  github.com/Masterminds/semver/v3 \
  github.com/aws/aws-cdk-go/awscdk/v2 \
  github.com/aws/constructs-go/constructs/v10 \
  github.com/aws/jsii-runtime-go \
  github.com/cdklabs/awscdk-asset-awscli-go/awscliv1/v2 \
  github.com/cdklabs/awscdk-asset-node-proxy-agent-go/nodeproxyagentv6/v2 \
  github.com/cdklabs/cdk-nag-go/cdknag/v2 \
  github.com/cdklabs/cloud-assembly-schema-go/awscdkcloudassemblyschema/v55 \
  github.com/yuin/goldmark \
  go.yaml.in/yaml/v3

app-modules:
	go mod download $(APP_MODULES)

app: app-modules
	go build -o .build/workshop .

## test: the unit tests (the longest step) and, beside them, the checks that
## do not need their results, at a lower CPU priority so that the tests keep
## their pace and the checks use what the tests leave idle. -O prints each
## step's output in one piece when the step ends; -k runs every step even
## when one fails, and make test then fails, each failed step with its own
## message and make's "*** [step] Error" line.
CHECKS := vet staticcheck drift lint-templates lint-shell lint-markdown
test: setup tools
	@$(MAKE) -k -j8 -O unit checks

checks:
	@nice -n 10 $(MAKE) -k -O $(CHECKS)

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...

## staticcheck: the version pinned by the tool directive in go.mod.
staticcheck: setup
	go tool staticcheck ./...

# TEST_TIMEOUT bounds one test binary: just under CI's 90 minutes for the
# whole job, so that CI's limit, not go test's default of 10 minutes, is
# what bounds a slow run, and a hung test still prints its goroutines.
TEST_TIMEOUT := 85m

# Every synthesis validates its templates against CloudFormation's rules
# (CDK's CloudFormation Validate engine: seconds of CPU each, and a test
# binary synthesizes several times). The check stays where it decides:
# drift below synthesizes through the CLI with it, as make synth does, and
# cdk.json makes its findings errors. The tests skip it (CDK_VALIDATION);
# cdk-nag's checks still run in every synthesis. bench-test runs the tests
# the same way.
TEST_ENV := CDK_VALIDATION=false
GO_TEST := $(TEST_ENV) go test -count=1 -timeout $(TEST_TIMEOUT)

## unit: go test of every package, in two go tests that make -j (as make
## test) runs side by side. go test starts the packages in the order it is
## given them, and ./... gives the order of their paths: the longest
## packages would start last and run alone at the end. So UNIT_FIRST, the
## longest, has a go test of its own, and UNIT_EARLY, the next longest
## (longest first, see make bench), lead the other go test's list, the
## packages ./... adds after them.
UNIT_FIRST := ./test/simulation
UNIT_EARLY := ./test/e2e ./test ./playbooks/rehearse/recording ./test/moto ./playbooks/rehearse ./playbooks/rehearse/samplelogs ./test/playbooks
unit: unit-first unit-rest

unit-first:
	$(GO_TEST) $(UNIT_FIRST)

unit-rest:
	$(GO_TEST) $(UNIT_EARLY) $$(go list ./... | grep -v $(foreach p,$(UNIT_FIRST) $(UNIT_EARLY),-e '/$(patsubst ./%,%,$(p))$$'))

## drift: the committed templates must equal a fresh synth through the CLI.
drift: setup
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cdk synth --quiet --output "$$tmp/cdk.out" >/dev/null; \
	for t in $(STACKS); do \
	  cmp -s "$$tmp/cdk.out/$$t.yaml" "cdk.out/$$t.yaml" || { diff -u "cdk.out/$$t.yaml" "$$tmp/cdk.out/$$t.yaml" | head -40; \
	    echo "drift: cdk.out/$$t.yaml differs from a fresh synth; run make synth and commit it" >&2; exit 1; }; \
	done; echo "drift: committed templates match a fresh synth"

lint-templates:
	cfn-lint --non-zero-exit-code warning -- $(TEMPLATES)
	@echo "cfn-lint: no findings"

## lint-shell: one shellcheck per script, which make -j runs side by side
## (each script is checked with lib/common.sh, which it sources: about a
## second of CPU a script, the most of any check). A script found clean
## leaves a stamp under .build/, named after shellcheck's version: it is
## checked again when it or a file of scripts/lib/ changes, or with another
## shellcheck. A fresh clone, as in CI, checks every script.
SHELLCHECK_VERSION := $(shell shellcheck --version 2>/dev/null | sed -n 's/^version: //p')
SHELLCHECKS := $(patsubst %,.build/shellcheck-$(SHELLCHECK_VERSION)/%.ok,$(SHELL_SCRIPTS))
lint-shell: $(SHELLCHECKS)
	@echo "shellcheck: $(words $(SHELL_SCRIPTS)) scripts clean"

$(SHELLCHECKS): .build/shellcheck-$(SHELLCHECK_VERSION)/%.ok: % $(wildcard scripts/lib/*.sh) | tools
	shellcheck --severity=style $*
	@mkdir -p $(@D) && touch $@

lint-markdown: setup
	markdownlint-cli2 "**/*.md" "#node_modules" "#cdk.out"

## bench: where the time goes. bench-synth runs the synthesized app and an
## empty-stack floor (test/bench/floor) in alternating pairs, as the CDK CLI
## runs an app, and prints the median ratio; bench-test runs the tests (PKGS,
## default ./...) and prints wall and CPU time by package, the slowest
## tests and the AWS CLI calls of each test (see test/bench).
PKGS ?= ./...
bench: bench-synth bench-test

bench-synth: setup app
	go build -o .build/bench ./test/bench
	go build -o .build/floor ./test/bench/floor
	.build/bench synth -app .build/workshop -floor .build/floor -pairs 5

bench-test: setup tools
	go build -o .build/bench ./test/bench
	$(TEST_ENV) go test -count=1 -timeout $(TEST_TIMEOUT) -json -exec "$(CURDIR)/.build/bench exec" $(PKGS) >.build/bench-test.json || true
	.build/bench report .build/bench-test.json

check-stack:
	@case " $(STACKS) " in *" $(STACK) "*) ;; *) \
	  echo "STACK=$(STACK) is not a stack of this app; allowed values: $(STACKS)" >&2; exit 2;; esac

deploy: setup check-stack
	cdk deploy $(STACK) $(ARGS)

diff: setup check-stack
	cdk diff $(STACK) $(ARGS)

destroy: setup check-stack
	cdk destroy $(STACK) $(ARGS)

clean:
	rm -rf .build node_modules $(filter-out $(TEMPLATES),$(wildcard cdk.out/*))
