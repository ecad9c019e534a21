#!/usr/bin/env bash
# Ledger benchmarks of docs/benchmarks.md: in-process durable appends, append latency, verification speed, proof time.
# Usage: bench/run-ledger.sh [runs]   (the 10M-event verify and proof scenarios each need ~10 GB in /tmp and several minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
dotnet build bench/AuditStream.Benchmarks -c Release -nologo -v q
B="dotnet bench/AuditStream.Benchmarks/bin/Release/net10.0/AuditStream.Benchmarks.dll"
for i in $(seq "$runs"); do $B append --producers 32 --batch 500 --seconds 10; done
for i in $(seq "$runs"); do DOTNET_gcServer=1 $B append --producers 32 --batch 500 --seconds 10; done
for i in $(seq "$runs"); do $B append --producers 32 --batch 500 --seconds 10 --prepared --events 1500000; done
for i in $(seq "$runs"); do $B latency --rate 10000 --seconds 10; done
$B verify --events 10000000 --runs "$runs"
dir=$(mktemp -d)
$B proofs --events 10000000 --proofs 1000 --dir "$dir"
rm -rf "$dir"
