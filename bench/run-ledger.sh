#!/usr/bin/env bash
# Ledger benchmarks of docs/benchmarks.md: in-process durable appends, append latency, verification speed, proof time,
# and (issue 18) what witnessing and proof-carrying streams cost the seed-120 stream scenario.
# Usage: bench/run-ledger.sh [runs] [scenario...]   (no scenario: all; runs default 3)
#   append latency verify-10m proofs stream-costs
#   verify-10m: builds a 10,000,000-event ledger once in VERIFY_DIR (default /tmp/auditstream-verify-10m, ~10 GB; kept,
#     so later runs only time `verify`; delete it to rebuild) and verifies it `runs` times: events/s and CPU µs/event.
#   proofs: 1,000 random inclusion and consistency proofs at 10 M events (a fresh ledger in /tmp, removed afterwards).
#   stream-costs: bench/run-stream.sh proofs-120 witness-120 with RUNS=runs (seed-120 plain, with proofs=true, with a
#     local `auditstream witness`, with both): compare the p99 of rows from the same invocation.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3
if [[ ${1:-} =~ ^[0-9]+$ ]]; then runs=$1; shift; fi
all=(append latency verify-10m proofs stream-costs)
scenarios=("$@")
if [ $# -eq 0 ]; then scenarios=("${all[@]}"); fi
dotnet build bench/AuditStream.Benchmarks -c Release -nologo -v q
B="dotnet bench/AuditStream.Benchmarks/bin/Release/net10.0/AuditStream.Benchmarks.dll"
for scenario in "${scenarios[@]}"; do
  case $scenario in
    append)       for i in $(seq "$runs"); do $B append --producers 32 --batch 500 --seconds 10; done
                  for i in $(seq "$runs"); do DOTNET_gcServer=1 $B append --producers 32 --batch 500 --seconds 10; done
                  for i in $(seq "$runs"); do $B append --producers 32 --batch 500 --seconds 10 --prepared --events 1500000; done ;;
    latency)      for i in $(seq "$runs"); do $B latency --rate 10000 --seconds 10; done ;;
    verify-10m)   dir=${VERIFY_DIR:-/tmp/auditstream-verify-10m}
                  mkdir -p "$dir"
                  $B verify --events "${VERIFY_EVENTS:-10000000}" --runs "$runs" --dir "$dir" ;;
    proofs)       dir=$(mktemp -d)
                  $B proofs --events 10000000 --proofs 1000 --dir "$dir"
                  rm -rf "$dir" ;;
    stream-costs) RUNS=$runs bench/run-stream.sh proofs-120 witness-120 ;;
    *) echo "unknown scenario '$scenario' (known: ${all[*]})" >&2; exit 2 ;;
  esac
done
