#!/usr/bin/env bash
# Artifact store throughput beside cp (and cp+fsync) on the same disk, in the
# same run: the store itself and through the HTTP API. See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench . -benchtime "${BENCHTIME:-8x}" -count "${COUNT:-3}" ./store/
go test -run '^$' -bench BenchmarkHTTP -benchtime "${BENCHTIME:-8x}" -count "${COUNT:-3}" ./integration/
