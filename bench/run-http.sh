#!/usr/bin/env bash
# HTTP benchmarks of docs/benchmarks.md: the server and the load generator as separate processes on loopback.
# Usage: bench/run-http.sh [runs]       ingest throughput, then single-event latency
#        bench/run-http.sh [runs] pii   ingest with PII detection off and on (every detector, mask), runs interleaved
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
scenario=${2:-}
dotnet build src/AuditStream.Server -c Release -nologo -v q
dotnet build bench/AuditStream.Benchmarks -c Release -nologo -v q
S="dotnet src/AuditStream.Server/bin/Release/net10.0/auditstream.dll"
B="dotnet bench/AuditStream.Benchmarks/bin/Release/net10.0/AuditStream.Benchmarks.dll"
url=http://127.0.0.1:5081/

run_server() {
  data=$(mktemp -d)
  AuditStream__PiiDetection__Default__Action=${pii:-off} $S serve --data "$data" --urls "$url" --log-level Warning & server=$!
  for _ in $(seq 100); do curl -sf "${url}api/v1/ledger/public-key" >/dev/null && break; sleep 0.2; done
  token=$($S token issue --role operator --tenant tenant-0 --scope audit:write --ttl 1h --data "$data")
}

stop_server() { kill "$server"; wait "$server" 2>/dev/null || true; rm -rf "$data"; }

if [ "$scenario" = pii ]; then
  for i in $(seq "$runs"); do
    for pii in off mask; do
      run_server; echo -n "pii=$pii "; $B http-ingest --url "$url" --token "$token" --connections 8 --batch 1000 --seconds 10; stop_server
    done
  done
  exit 0
fi

for i in $(seq "$runs"); do
  run_server; $B http-ingest --url "$url" --token "$token" --connections 8 --batch 1000 --seconds 10; stop_server
done
for i in $(seq "$runs"); do
  run_server; $B http-latency --url "$url" --token "$token" --rate 1000 --seconds 10; stop_server
done
