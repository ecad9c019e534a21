#!/usr/bin/env bash
# Cluster ingest benchmark of docs/benchmarks.md: durable HTTP ingest (every 201 = committed) in one run, with
#   cluster-3   3 instances on one PostgreSQL ledger (deploy/local/cluster.sh), the producer connections spread over all 3
#   postgres-1  1 instance on PostgreSQL (the same script with one port)
#   sqlite-1    1 instance on its embedded SQLite ledger
# Each scenario gets the same total of producer connections and a fresh ledger; one http-ingest process per instance
# (2 s warm-up, then the measured window), and the instances' events/s are summed. Around each scenario's run the CPU
# time of every server process, of PostgreSQL (postmaster and backends) and of Redis is read from /proc, and printed as
# cores used and as CPU microseconds per committed event: where the box's two cores go.
# Usage: bench/run-cluster.sh [seconds] [connections in all] [batch]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-12}
batch=${3:-1000}
dotnet build src/AuditStream.Server -c Release -nologo -v q
dotnet build bench/AuditStream.Benchmarks -c Release -nologo -v q
S=src/AuditStream.Server/bin/Release/net10.0/auditstream
B="dotnet bench/AuditStream.Benchmarks/bin/Release/net10.0/AuditStream.Benchmarks.dll"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints "name pid ticks" for each process of "name=pid[,pid…]" (utime + stime from /proc/pid/stat, in clock ticks).
ticks() {
  local group pid
  for group in "$@"; do
    for pid in $(echo "${group#*=}" | tr ',' ' '); do
      [ -r "/proc/$pid/stat" ] && echo "${group%%=*} $pid $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')"
    done
  done
}

# CPU per process group between two ticks snapshots: cores used over the wall time, and microseconds per event.
cpu_report() { # scenario before-file after-file wall-seconds events-per-s
  awk -v hz="$(getconf CLK_TCK)" -v wall="$4" -v eps="$5" '
    FNR == NR { before[$1 " " $2] = $3; next }
    { used[$1] += $3 - before[$1 " " $2]; total += $3 - before[$1 " " $2] }
    END {
      for (name in used) printf "%s=%.2f cores (%.0f us/event)\n", name, used[name] / hz / wall, used[name] / hz / wall * 1e6 / eps
      printf "~all=%.2f cores, %.0f us/event\n", total / hz / wall, total / hz / wall * 1e6 / eps
    }' "$2" "$3" | sort | tr '\n' ' ' | sed "s/^/$1 cpu: /; s/ ~/ | /; s/ $/\n/"
}

ingest() { # scenario token port…  (PROCESSES: "name=pid…" groups whose CPU is reported)
  local scenario=$1 token=$2; shift 2
  local per=$((connections / $#)) pids=() started
  # shellcheck disable=SC2086
  ticks $PROCESSES >"$work/$scenario.cpu-before"
  started=$(date +%s.%N)
  for port in "$@"; do
    $B http-ingest --url "http://127.0.0.1:$port/" --token "$token" --connections "$per" --batch "$batch" --seconds "$seconds" >"$work/$scenario.$port" & pids+=($!)
  done
  wait "${pids[@]}"
  local wall; wall=$(echo "$(date +%s.%N) - $started" | bc)
  # The run's processes may have started backends while it ran: read the groups again for the after snapshot.
  # shellcheck disable=SC2086
  ticks $(processes_now) >"$work/$scenario.cpu-after"
  cat "$work/$scenario".[0-9]* | sed "s/^/  $scenario: /"
  local eps; eps=$(cat "$work/$scenario".[0-9]* | grep -o 'events_per_s=[0-9]*' | cut -d= -f2 | paste -sd+ | bc)
  echo "$scenario instances=$# connections=$((per * $#)) events_per_s=$eps"
  # Events/s is over the measured window only; CPU over warm-up + window: us/event is a slight overestimate.
  cpu_report "$scenario" "$work/$scenario.cpu-before" "$work/$scenario.cpu-after" "$wall" "$eps"
}

on_cluster() { # scenario ports
  local scenario=$1 ports=$2 log="$work/cluster-$1.log"
  PORTS="$ports" deploy/local/cluster.sh >"$log" 2>&1 & local cluster=$!
  for _ in $(seq 360); do grep -q "stops the cluster" "$log" && break; kill -0 $cluster 2>/dev/null || break; sleep 0.5; done
  grep -q "stops the cluster" "$log" || { cat "$log" >&2; exit 1; }
  local key; key=$(grep -o "SigningKey='[^']*'" "$log" | cut -d"'" -f2)
  CLUSTER_DIR=$(grep -o 'data and logs in [^)]*' "$log" | cut -d' ' -f5)
  processes_now() {
    local postmaster; postmaster=$(head -1 "$CLUSTER_DIR/pg/postmaster.pid")
    local n=0 port
    for port in $ports; do n=$((n + 1)); echo "instance-$n=$(cat "$CLUSTER_DIR/pids/instance-$n")"; done
    echo "postgres=$postmaster,$(pgrep -d, -P "$postmaster")"
    echo "redis=$(cat "$CLUSTER_DIR/pids/redis")"
  }
  PROCESSES=$(processes_now)
  local token; token=$(AuditStream__Auth__SigningKey="$key" $S token issue --role operator --tenant tenant-0 --scope audit:write --ttl 1h)
  # shellcheck disable=SC2086
  ingest "$scenario" "$token" $ports
  kill -TERM $cluster; wait $cluster || true
}

on_sqlite() {
  local data; data=$(mktemp -d) port=5085
  $S serve --data "$data" --urls "http://127.0.0.1:$port" --log-level Warning & local server=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.2; done
  local token; token=$($S token issue --role operator --tenant tenant-0 --scope audit:write --ttl 1h --data "$data")
  processes_now() { echo "instance-1=$server"; }
  PROCESSES=$(processes_now)
  ingest sqlite-1 "$token" $port
  kill $server; wait $server 2>/dev/null || true; rm -rf "$data"
}

on_cluster cluster-3 "8081 8082 8083"
on_cluster postgres-1 "8081"
on_sqlite
