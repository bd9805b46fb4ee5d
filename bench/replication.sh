#!/usr/bin/env bash
# Replication between two agents on loopback (shanghai -> beijing, both
# processes of the ferry binary, data dirs on this machine's disk) beside cp
# and an rsync daemon on loopback copying the same files on the same disk, in
# the same run: 1 GiB in 64 files, 10,000 files of 4 KiB and their no-op
# re-run, and a 20 MiB/s rate limit; then the scale figures: 100,000 and
# 1,000,000 files of 4 KiB in one repository (time ratio, the agents' peak
# memory, the no-op re-run, pages of a 100,000-file folder; about 8 minutes
# and 12 GiB a count; FERRY_BENCH_SCALE=100000 for the smaller only). See
# docs/performance.md ("Replication", "Scale").
#
# Installs rsync from Debian when it is missing. BENCH, BENCHTIME and COUNT
# override what runs and how often. The files of every iteration stay in one
# scratch directory (about 7 GiB per count) until the end, then it is removed:
# deleting while benchmarks run would slow whatever is timed next.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v rsync >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y rsync
fi
FERRY_BENCH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-XXXXXX")
export FERRY_BENCH_DIR
trap 'rm -rf "$FERRY_BENCH_DIR"' EXIT
go test -run '^$' -bench "${BENCH:-BenchmarkReplication}" -benchtime "${BENCHTIME:-1x}" -count "${COUNT:-3}" -timeout 120m ./integration/
