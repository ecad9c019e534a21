#!/usr/bin/env bash
# Producer benchmarks of docs/benchmarks.md (issue 9): the middleware's added time per request (in process), and SDK
# Enqueue throughput from one process to a server on loopback (separate processes).
# Usage: bench/run-producers.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
dotnet build src/AuditStream.Server -c Release -nologo -v q
dotnet build bench/AuditStream.Producers.Benchmarks -c Release -nologo -v q
S="dotnet src/AuditStream.Server/bin/Release/net10.0/auditstream.dll"
B="dotnet bench/AuditStream.Producers.Benchmarks/bin/Release/net10.0/AuditStream.Producers.Benchmarks.dll"
url=http://127.0.0.1:5082/

for i in $(seq "$runs"); do $B middleware --requests 200000; done

for i in $(seq "$runs"); do
  data=$(mktemp -d)
  $S serve --data "$data" --urls "$url" --log-level Warning & server=$!
  for _ in $(seq 100); do curl -sf "${url}api/v1/ledger/public-key" >/dev/null && break; sleep 0.2; done
  token=$($S token issue --role operator --tenant tenant-0 --scope audit:write --ttl 1h --data "$data")
  $B publish --url "$url" --token "$token" --events 500000 --batch 1000
  kill "$server"; wait "$server" 2>/dev/null || true; rm -rf "$data"
done
