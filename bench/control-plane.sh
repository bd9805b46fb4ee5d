#!/usr/bin/env bash
# Control-plane figures on three real agents (in one process, loopback, the
# data dirs on this machine's disk): leader failover time and replicated write
# rates through the leader and through a follower. See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench 'BenchmarkLeaderFailover' -benchtime "${FAILOVERS:-11}x" ./integration/
go test -run '^$' -bench 'BenchmarkWrite' -benchtime "${BENCHTIME:-3s}" -count "${COUNT:-3}" ./integration/
