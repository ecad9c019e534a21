#!/usr/bin/env bash
# Live-stream benchmarks of docs/benchmarks.md (issue 5): the real server and bench/AuditStream.LoadGen as separate
# processes on loopback, a fresh server and data directory per scenario.
#
# Usage: bench/run-stream.sh [scenario...]     (no argument: all of them)
#   seed-120 broadcast-1k max-throughput selective-10k idle-15k stalled-10pct metrics-overhead proofs-120 witness-120
# Environment: MEASURE=10 (seconds measured; idle: seconds to settle), WARMUP=3, DRAIN=2, RUNS=1 (repeats of each
#   scenario, one row each), PORT=5091, IDLE=15000 (idle-15k's clients, fewer on a loaded box),
#   OUT=bench/results/<UTC date> (stream.csv is appended there), CLIENT_BUFFER (hub ClientBufferSize; server default
#   if unset, 100000 for max-throughput), MAX_OFFERED=5000000 (msgs/s offered in max-throughput),
#   SOURCES (e.g. 127.0.0.2,127.0.0.3: local addresses for subscribers when ephemeral ports run short),
#   LOADGEN_ARGS (extra arguments for every `run`, e.g. "--interval-ms 2"),
#   SERVER_DIR (a directory with another build of auditstream.dll, to compare two builds; default the Release build
#   of src/AuditStream.Server), TARGET=raw to run the scenarios against bench/peers/RawLoopback instead (rows named raw/<scenario>; it ignores
#   filters, so selective-10k means nothing there).
set -euo pipefail
cd "$(dirname "$0")/.."

all=(seed-120 broadcast-1k max-throughput selective-10k idle-15k stalled-10pct metrics-overhead proofs-120 witness-120)
scenarios=("$@")
if [ $# -eq 0 ]; then scenarios=("${all[@]}"); fi
measure=${MEASURE:-10} warmup=${WARMUP:-3} drain=${DRAIN:-2} port=${PORT:-5091}
out=${OUT:-bench/results/$(date -u +%Y-%m-%d)}
csv=$out/stream.csv
url=http://127.0.0.1:$port/

target=${TARGET:-auditstream}
case $target in
  auditstream) dotnet build src/AuditStream.Server -c Release -nologo -v q ;;
  raw) dotnet build bench/peers/RawLoopback -c Release -nologo -v q ;;
  *) echo "unknown TARGET '$target' (auditstream or raw)" >&2; exit 2 ;;
esac
dotnet build bench/AuditStream.LoadGen -c Release -nologo -v q
S="dotnet ${SERVER_DIR:-src/AuditStream.Server/bin/Release/net10.0}/auditstream.dll"
R="dotnet bench/peers/RawLoopback/bin/Release/net10.0/RawLoopback.dll"
L="dotnet bench/AuditStream.LoadGen/bin/Release/net10.0/AuditStream.LoadGen.dll"
mkdir -p "$out"
rows_before=$( [ -f "$csv" ] && wc -l <"$csv" || echo 0)

server="" data="" client_buffer=${CLIENT_BUFFER:-}
start_server() {
  if [ "$target" = raw ]; then
    # The machine's ceiling: bare Kestrel writing pre-built frames to every socket (no auth, filters or ledger).
    $R --urls "$url" & server=$!
    for _ in $(seq 150); do curl -sf "${url}live" >/dev/null && break; sleep 0.2; done
    token=none producer_token=none
    return
  fi
  data=${keep_data:-$(mktemp -d)}
  # Benchmark hub settings: enough clients, no per-client rate limits (they would turn deliveries into gaps), and no
  # audit trail of the stream's own connections (it would add events the producer did not send).
  env AuditStream__Hub__MaxClients=20000 AuditStream__Hub__MaxClientsPerSubject=0 AuditStream__Hub__MaxClientsPerAddress=0 AuditStream__Hub__RateLimitPerSecond=0 AuditStream__Hub__RateLimitPerMinute=0 \
    AuditStream__Hub__RecordActivity=false ${client_buffer:+AuditStream__Hub__ClientBufferSize=$client_buffer} \
    DOTNET_gcServer=0 Logging__LogLevel__Default=Warning ${SERVER_ENV:-} ${extra_env:-} \
    $S serve --data "$data" --urls "$url" --log-level Warning &
  server=$!
  for _ in $(seq 150); do curl -sf "${url}api/v1/ledger/public-key" >/dev/null && break; sleep 0.2; done
  curl -sf "${url}api/v1/ledger/public-key" >/dev/null || { echo "server did not start" >&2; exit 1; }
  token=$($S token issue --role admin --tenant '*' --ttl 2h --data "$data")
  producer_token=$($S token issue --role operator --tenant tenant-0 --scope audit:write --ttl 2h --data "$data")
}

stop_server() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; fi
  if [ -n "$data" ] && [ -z "${keep_data:-}" ]; then rm -rf "$data"; fi
  data=""
}

# Issue 18: a local `auditstream witness` for the log of a fresh data directory (the server is started once on it to
# learn its key), and the server settings that make it submit every checkpoint there (quorum 1).
witness="" witness_dir=""
start_witness() {
  witness_dir=$(mktemp -d)
  keep_data=$witness_dir/data
  mkdir -p "$keep_data"
  start_server
  local log_key wport
  log_key=$(curl -sf "${url}api/v1/ledger/public-key")
  stop_server
  wport=$((port + 1))
  $S witness --log-key "$log_key" --listen "http://127.0.0.1:$wport" --key "$witness_dir/witness.key" \
    --state "$witness_dir/witness-state.json" >"$witness_dir/witness.out" 2>&1 &
  witness=$!
  for _ in $(seq 150); do grep -q '^cosigner key: ' "$witness_dir/witness.out" && break; sleep 0.2; done
  local wkey
  wkey=$(sed -n 's/^cosigner key: //p' "$witness_dir/witness.out")
  [ -n "$wkey" ] || { echo "witness did not start" >&2; cat "$witness_dir/witness.out" >&2; exit 1; }
  extra_env="AuditStream__Witnessing__Quorum=1 AuditStream__Witnessing__Witnesses__0__Url=http://127.0.0.1:$wport/ AuditStream__Witnessing__Witnesses__0__PublicKey=$wkey"
}

stop_witness() {
  if [ -n "$witness" ]; then kill "$witness" 2>/dev/null || true; wait "$witness" 2>/dev/null || true; witness=""; fi
  if [ -n "$witness_dir" ]; then rm -rf "$witness_dir"; witness_dir=""; fi
  keep_data="" extra_env=""
}
trap 'stop_server; stop_witness' EXIT

# One scenario row: a fresh server, one coordinator run with the given parameters.
run() {
  local name=$1; shift
  start_server
  if [ "$target" = raw ]; then name="raw/$name"; fi
  # shellcheck disable=SC2086
  $L run --scenario "$name" --url "$url" --token "$token" --producer-token "$producer_token" --server-pid "$server" \
    --csv "$csv" --warmup "$warmup" --seconds "$measure" --drain "$drain" ${SOURCES:+--sources "$SOURCES"} ${LOADGEN_ARGS:-} "$@"
  stop_server
}

# Every scenario's parameters, in one place.
for scenario in "${scenarios[@]}"; do
 for _ in $(seq "${RUNS:-1}"); do
  case $scenario in
    seed-120)       run seed-120 --clients 120 --rate 1250 ;;
    broadcast-1k)   run broadcast-1k --clients 1000 --rate 1000 ;;
    # Offered: MAX_OFFERED msgs/s split over the clients (events/s = MAX_OFFERED / clients; 0 = the producer's
    # closed-loop maximum when that is above what HTTP ingest takes), with deep client queues so that clients that
    # fall behind are measured rather than closed with 4008 at once.
    max-throughput) for n in 100 1000 10000; do
                      rate=$(( ${MAX_OFFERED:-5000000} / n )); [ "$rate" -gt 25000 ] && rate=0
                      client_buffer=${CLIENT_BUFFER:-100000} run "max-throughput-$n" --clients "$n" --rate "$rate"
                    done ;;
    selective-10k)  run selective-10k --clients 10000 --types 100 --rate 1000 ;;
    idle-15k)       run idle-15k --clients "${IDLE:-15000}" --idle ;;
    # Issue 6: the hub's delivered msgs/s with the Prometheus exporter listening and without it, at 1,000 clients and
    # 5,000 events/s offered (fan-out bound, as max-throughput-1000; a closed-loop producer would measure ingest noise).
    metrics-overhead) for state in on off; do
                      enabled=true; [ "$state" = off ] && enabled=false
                      extra_env="AuditStream__Operations__MetricsEnabled=$enabled" client_buffer=${CLIENT_BUFFER:-100000} \
                        run "metrics-$state-1000" --clients 1000 --rate 5000
                    done ;;
    # Issue 18: the cost of proof-carrying streams, seed-120 without and with proofs=true on every subscriber
    # (a checkpoint a second, the server's default; each event's proof computed once and sent to all 120).
    proofs-120)     run seed-120-plain --clients 120 --rate 1250
                    run seed-120-proofs --clients 120 --rate 1250 --query proofs=true ;;
    # Issue 18: the cost of witnessing, the same with a local `auditstream witness` cosigning every checkpoint (the
    # stream's checkpoints then wait for the cosignature, and so do the proofs).
    witness-120)    start_witness; run seed-120-witness --clients 120 --rate 1250; stop_witness
                    start_witness; run seed-120-witness-proofs --clients 120 --rate 1250 --query proofs=true; stop_witness ;;
    stalled-10pct)  run stalled-0pct --clients 1000 --rate 1000
                    run stalled-10pct --clients 1000 --rate 1000 --stalled-percent 10 ;;
    *) echo "unknown scenario '$scenario' (known: ${all[*]})" >&2; exit 2 ;;
  esac
 done
done

# The rows of this invocation as a Markdown table.
echo
echo "| scenario | clients | offered ev/s | delivered msg/s | p50 ms | p99 ms | p99.9 ms | max ms | missing | closes | server CPU % | server RSS MiB | loadgen CPU % | box CPU % | idle RSS KiB/conn | idle GC heap KiB/conn |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
tail -n +"$((rows_before + 1))" "$csv" | grep -v '^date_utc' | awk -F, '{
  printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
    $2, $3 ($4 > 0 ? " (" $4 " stalled)" : ""), $6, $8, $11, $13, $14, $15, $10, $18, $22, $23, $24, $26, $27, $29 }'
echo
echo "CSV: $csv"
