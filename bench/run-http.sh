#!/usr/bin/env bash
# HTTP benchmarks of docs/benchmarks.md: the server and the load generator as separate processes on loopback.
# Usage: bench/run-http.sh [runs]       ingest throughput, then single-event latency
#        bench/run-http.sh [runs] pii   ingest, runs interleaved, of one event carrying a subject_id and personal data
#                                       (e-mail, name, phone): as plain metadata fields with detection off (base); as pii,
#                                       encrypted, detection off (encrypt); as pii with every detector on, mask
#                                       (encrypt+detect). Prints each run, and per mode the median events/s, its ratio to
#                                       base and the median server CPU µs per event (load-independent-ish: the one to
#                                       compare on a busy machine).
# BENCH_SECONDS (default 10) sets the measured seconds of each ingest run (e.g. BENCH_SECONDS=2 for a quick check);
# BENCH_WARMUP (default 2; 10 for pii, whose modes differ by a few µs per event) the unmeasured seconds before it: the
# server's tiered JIT is still compiling for several seconds, which a 2-second warm-up measures as cost.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
scenario=${2:-}
seconds=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-$([ "$scenario" = pii ] && echo 10 || echo 2)}
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
  out=$(mktemp)
  for i in $(seq "$runs"); do
    for mode in base encrypt encrypt+detect; do
      case $mode in base) pii=off; personal=plain;; encrypt) pii=off; personal=pii;; *) pii=mask; personal=pii;; esac
      run_server
      line=$($B http-ingest --url "$url" --token "$token" --connections 8 --batch 1000 --seconds "$seconds" --warmup "$warmup" --personal $personal --server-pid "$server")
      stop_server
      echo "mode=$mode detection=$pii $line" | tee -a "$out"
    done
  done
  # Medians per mode and their ratio to base (same session, runs interleaved: only these ratios compare).
  median() { grep "^mode=$1 " "$out" | sed "s/.* $2=\([0-9.]*\).*/\1/" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
  base=$(median base events_per_s)
  for mode in base encrypt encrypt+detect; do
    m=$(median "$mode" events_per_s)
    echo "median mode=$mode events_per_s=$m ratio_to_base=$(awk -v m="$m" -v b="$base" 'BEGIN { printf "%.2f", m / b }') server_cpu_us_per_event=$(median "$mode" server_cpu_us_per_event)"
  done
  rm -f "$out"
  exit 0
fi

for i in $(seq "$runs"); do
  run_server; $B http-ingest --url "$url" --token "$token" --connections 8 --batch 1000 --seconds "$seconds"; stop_server
done
for i in $(seq "$runs"); do
  run_server; $B http-latency --url "$url" --token "$token" --rate 1000 --seconds 10; stop_server
done
