#!/usr/bin/env bash
# The HTTP fuzzer of integration/fuzz_http_test.go run long: random and
# mutated requests over every route of a one-agent group, no 5xx allowed and
# no state change on a refusal. Prints the requests, their rate and the
# counts by status (status 0: a URL the client itself refused to send).
# See docs/security.md, "Resource limits".
#   FERRY_FUZZ_REQUESTS  total requests (default 1,000,000)
#   FERRY_FUZZ_SEED      the seed, to replay a failure
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
export FERRY_FUZZ_REQUESTS="${FERRY_FUZZ_REQUESTS:-1000000}"
go test -count=1 -timeout 0 -run '^TestFuzzHTTPEveryRoute$' -v ./integration/ 2>&1 | grep --line-buffered -E 'fuzz|FAIL|PASS|ok|Error|panic'
