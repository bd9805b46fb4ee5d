#!/usr/bin/env bash
# OCI images: a replication run of a DOCKER repository between two agents on
# loopback beside skopeo sync between two Distribution registries (Debian's
# docker-registry 2.8, a config of the benchmark's own, loopback ports chosen
# at run time), and skopeo pushing into and pulling out of each, in the same
# run: 20 images of 5 layers (4 KiB to 8 MiB, shared base layers), the fresh
# sync and its no-op re-sync. See docs/performance.md ("OCI replication").
#
# Installs skopeo and docker-registry from Debian when they are missing.
# BENCH, BENCHTIME and COUNT override what runs and how often. Every process
# the benchmark starts and every file it writes (TMPDIR too) stay inside one
# process group and one scratch directory, both removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v skopeo >/dev/null || missing+=(skopeo)
command -v docker-registry >/dev/null || missing+=(docker-registry)
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
FERRY_BENCH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-XXXXXX")
export FERRY_BENCH_DIR
bench=
cleanup() {
	if [ -n "$bench" ]; then
		kill -TERM -- "-$bench" 2>/dev/null || true
		wait "$bench" 2>/dev/null || true
	fi
	rm -rf "$FERRY_BENCH_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir "$FERRY_BENCH_DIR/tmp"
TMPDIR="$FERRY_BENCH_DIR/tmp" setsid go test -run '^$' -bench "${BENCH:-BenchmarkOCI}" -benchtime "${BENCHTIME:-1x}" -count "${COUNT:-3}" -timeout 30m ./integration/ &
bench=$!
wait "$bench"
bench=
