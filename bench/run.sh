#!/usr/bin/env bash
# Issue 7: AuditStream side by side with its peers, one command (docs/benchmarks.md, "Side by side with peers").
# Builds Release, then for each scenario, RUNS times, runs every system with the same load generator, clients, rate,
# payload, warm-up, window and drain (a fresh server per run; within a run index the systems go one after another, so a
# ratio from the same run compares neighbours in time). Rows go to $OUT/results.csv; AuditStream.BenchReport then writes
# $OUT/results.md (medians, min–max, ratios AuditStream ÷ peer) and PNG plots next to it.
#
# Usage: bench/run.sh [--smoke] [scenario...]    (no scenario: seed-120 broadcast-1k max-throughput)
#   scenarios run against every system: seed-120 broadcast-1k max-throughput
#   AuditStream only (peers have no filters, durable ingest or slow-consumer policy to compare): selective-10k idle-15k
#     stalled-10pct ingest-max
#   --smoke: seconds long, for CI: one run of `smoke` (20 clients, 200 events/s, 1 s window) against every system,
#     results under bench/results/tmp/ (ignored by git) unless OUT is set.
# Environment: RUNS=3, WARMUP=2, MEASURE=8, DRAIN=1 (seconds), SYSTEMS="auditstream signalr nats raw",
#   MT_CLIENTS="100 1000" (max-throughput client counts; add 10000 on a quiet box), MAX_OFFERED=5000000 (msgs/s offered
#   in max-throughput: events/s = MAX_OFFERED / clients, 0 = closed loop above 25,000), PORT=5091 (the systems use
#   PORT..PORT+4), OUT=bench/results/<UTC date> (or <UTC date>/<HHMMSS> when that already holds a run), SOURCES and LOADGEN_ARGS as in bench/run-stream.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=0
if [ "${1:-}" = --smoke ]; then smoke=1; shift; fi
scenarios=("$@")
if [ $smoke = 1 ]; then
  : "${RUNS:=1}" "${WARMUP:=1}" "${MEASURE:=1}" "${DRAIN:=0.5}" "${OUT:=bench/results/tmp/smoke-$(date -u +%Y%m%dT%H%M%S)}"
  if [ $# -eq 0 ]; then scenarios=(smoke); fi
elif [ $# -eq 0 ]; then
  scenarios=(seed-120 broadcast-1k max-throughput)
fi
runs=${RUNS:-3} warmup=${WARMUP:-2} measure=${MEASURE:-8} drain=${DRAIN:-1} port=${PORT:-5091}
systems=(${SYSTEMS:-auditstream signalr nats raw})
out=${OUT:-bench/results/$(date -u +%Y-%m-%d)}
# A second run on the same day gets its own directory: the report pairs rows by run index, so rows of two
# invocations in one results.csv would pair runs that were not neighbours in time.
if [ -f "$out/results.csv" ]; then out="$out/$(date -u +%H%M%S)"; fi
csv=$out/results.csv

if [[ " ${systems[*]} " == *" nats "* ]] && ! command -v nats-server >/dev/null; then
  echo "nats-server is missing: installing the Debian package" >&2
  apt-get install -y -qq nats-server >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq nats-server >/dev/null; } ||
    { echo "could not install nats-server; run with SYSTEMS without nats" >&2; exit 1; }
fi

for project in src/AuditStream.Server bench/AuditStream.LoadGen bench/AuditStream.BenchReport bench/peers/RawLoopback bench/peers/SignalRPeer; do
  dotnet build "$project" -c Release -nologo -v q -clp:ErrorsOnly
done
S="dotnet src/AuditStream.Server/bin/Release/net10.0/auditstream.dll"
L="dotnet bench/AuditStream.LoadGen/bin/Release/net10.0/AuditStream.LoadGen.dll"
mkdir -p "$out"
work=$(mktemp -d)
{
  echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "kernel: $(uname -r)"
  echo "dotnet: $(dotnet --version)"
  echo "nats-server: $(nats-server --version 2>/dev/null || echo absent)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "settings: RUNS=$runs WARMUP=$warmup MEASURE=$measure DRAIN=$drain SYSTEMS=\"${systems[*]}\" MT_CLIENTS=\"${MT_CLIENTS:-100 1000}\" MAX_OFFERED=${MAX_OFFERED:-5000000}"
} >"$out/machine.txt"

server="" data="" url="" producer_url="" protocol="" token=none producer_token=none client_buffer=""

wait_http() { for _ in $(seq 150); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done; echo "no answer from $1" >&2; return 1; }
wait_tcp() { for _ in $(seq 150); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.2; done; echo "nothing listens on $1" >&2; return 1; }

# Each system: a fresh process on its own port; sets url (subscribers), producer_url, protocol and server (its pid).
start_server() {
  token=none producer_token=none producer_url="" protocol=auditstream
  case $1 in
    auditstream)
      url=http://127.0.0.1:$port/ data=$(mktemp -d)
      # As bench/run-stream.sh: enough clients, no per-client rate limits, no audit trail of the stream's own connections.
      env AuditStream__Hub__MaxClients=20000 AuditStream__Hub__MaxClientsPerSubject=0 AuditStream__Hub__MaxClientsPerAddress=0 AuditStream__Hub__RateLimitPerSecond=0 AuditStream__Hub__RateLimitPerMinute=0 \
        AuditStream__Hub__RecordActivity=false ${client_buffer:+AuditStream__Hub__ClientBufferSize=$client_buffer} \
        DOTNET_gcServer=0 Logging__LogLevel__Default=Warning \
        $S serve --data "$data" --urls "$url" --log-level Warning &
      server=$!
      wait_http "${url}api/v1/ledger/public-key"
      token=$($S token issue --role admin --tenant '*' --ttl 2h --data "$data")
      producer_token=$($S token issue --role operator --tenant tenant-0 --scope audit:write --ttl 2h --data "$data") ;;
    raw)
      url=http://127.0.0.1:$((port + 1))/
      DOTNET_gcServer=0 dotnet bench/peers/RawLoopback/bin/Release/net10.0/RawLoopback.dll --urls "$url" & server=$!
      wait_http "${url}live" ;;
    signalr)
      url=http://127.0.0.1:$((port + 2))/ protocol=signalr
      DOTNET_gcServer=0 dotnet bench/peers/SignalRPeer/bin/Release/net10.0/SignalRPeer.dll --urls "$url" & server=$!
      wait_http "${url}live" ;;
    nats)
      url=http://127.0.0.1:$((port + 4))/ producer_url=nats://127.0.0.1:$((port + 3)) protocol=nats
      # Plain TCP for the producer, the WebSocket listener (no TLS: loopback only) for subscribers.
      printf 'listen: "127.0.0.1:%s"\nwebsocket {\n  listen: "127.0.0.1:%s"\n  no_tls: true\n}\n' $((port + 3)) $((port + 4)) >"$work/nats.conf"
      nats-server -c "$work/nats.conf" >"$work/nats.log" 2>&1 & server=$!
      wait_tcp $((port + 3)); wait_tcp $((port + 4)) ;;
    *) echo "unknown system '$1' (auditstream signalr nats raw)" >&2; exit 2 ;;
  esac
}

stop_server() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; fi
  if [ -n "$data" ]; then rm -rf "$data"; data=""; fi
}
trap 'stop_server; rm -rf "$work"' EXIT

# One row: a fresh server, one coordinator run, its row appended to results.csv with the system and run index.
run_one() {
  local system=$1 run=$2 name=$3; shift 3
  start_server "$system"
  rm -f "$work/row.csv"
  echo "== $system $name (run $run)" >&2
  # shellcheck disable=SC2086
  if $L run --scenario "$name" --url "$url" --protocol "$protocol" ${producer_url:+--producer-url "$producer_url"} \
      --token "$token" --producer-token "$producer_token" --server-pid "$server" --csv "$work/row.csv" \
      --warmup "$warmup" --seconds "$measure" --drain "$drain" ${SOURCES:+--sources "$SOURCES"} ${LOADGEN_ARGS:-} "$@"; then
    if [ ! -f "$csv" ]; then echo "system,run,$(head -1 "$work/row.csv")" >"$csv"; fi
    tail -n +2 "$work/row.csv" | sed "s/^/$system,$run,/" >>"$csv"
  else
    echo "!! $system $name (run $run) failed; no row" >&2
  fi
  stop_server
}

# Every system (of SYSTEMS) in turn, or only the ones listed after --only.
each() {
  local run=$1 name=$2; shift 2
  local only=("${systems[@]}")
  if [ "${1:-}" = --only ]; then only=($2); shift 2; fi
  for system in "${systems[@]}"; do
    if [[ " ${only[*]} " == *" $system "* ]]; then run_one "$system" "$run" "$name" "$@"; fi
  done
}

# Every scenario's parameters, in one place.
for scenario in "${scenarios[@]}"; do
 for run in $(seq "$runs"); do
  case $scenario in
    smoke)          each "$run" smoke --clients 20 --rate 200 ;;
    seed-120)       each "$run" seed-120 --clients 120 --rate 1250 ;;
    broadcast-1k)   each "$run" broadcast-1k --clients 1000 --rate 1000 ;;
    # Deep client queues in AuditStream, so clients that fall behind are measured rather than closed with 4008 at once.
    max-throughput) for n in ${MT_CLIENTS:-100 1000}; do
                      rate=$(( ${MAX_OFFERED:-5000000} / n )); [ "$rate" -gt 25000 ] && rate=0
                      client_buffer=${CLIENT_BUFFER:-100000} each "$run" "max-throughput-$n" --clients "$n" --rate "$rate"
                    done ;;
    selective-10k)  each "$run" selective-10k --only auditstream --clients 10000 --types 100 --rate 1000 ;;
    idle-15k)       each "$run" idle-15k --only auditstream --clients 15000 --idle ;;
    stalled-10pct)  each "$run" stalled-0pct --only auditstream --clients 1000 --rate 1000
                    each "$run" stalled-10pct --only auditstream --clients 1000 --rate 1000 --stalled-percent 10 ;;
    ingest-max)     each "$run" ingest-max --only auditstream --clients 0 --rate 0 ;;
    *) echo "unknown scenario '$scenario'" >&2; exit 2 ;;
  esac
 done
done

dotnet bench/AuditStream.BenchReport/bin/Release/net10.0/AuditStream.BenchReport.dll "$csv"
echo "results: $out (results.csv, results.md, *.png, machine.txt)"
