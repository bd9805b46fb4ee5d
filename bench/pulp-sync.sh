#!/usr/bin/env bash
# Pulp 2 syncs from a feed on nginx (loopback), beside wget --mirror and curl
# with 5 parallel connections fetching the same files from the same server,
# in the same run: 1 GiB in 64 files and 10,000 files of 4 KiB, each with
# the no-op re-sync of the unchanged feed. See docs/performance.md ("Pulp
# sync").
#
# Installs nginx, wget and curl from Debian when they are missing. BENCH,
# BENCHTIME and COUNT override what runs and how often.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v wget >/dev/null || missing+=(wget)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y "${missing[@]}"
fi
FERRY_BENCH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-XXXXXX")
export FERRY_BENCH_DIR
trap 'rm -rf "$FERRY_BENCH_DIR"' EXIT
go test -run '^$' -bench "${BENCH:-BenchmarkPulpSync}" -benchtime "${BENCHTIME:-1x}" -count "${COUNT:-3}" -timeout 30m ./integration/
