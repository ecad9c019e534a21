#!/usr/bin/env bash
# Cluster ingest benchmark of docs/benchmarks.md: durable HTTP ingest (every 201 = committed) in one run, with
#   cluster-3   3 instances on one PostgreSQL ledger (deploy/local/cluster.sh), the producer connections spread over all 3
#   cluster-3-leader  the same, every producer connection on the leader (the followers only follow)
#   postgres-1  1 instance on PostgreSQL (the same script with one port)
#   sqlite-1    1 instance on its embedded SQLite ledger
#   follower-latency  3 instances; one producer posts RATE (1000) events/s to the leader, SUBSCRIBERS (100) stream
#               clients on a follower; latency percentiles (the loadgen's row) from the producer's send, then from the
#               commit (the event's timestamp: commit → socket, the goal's measure)
#   idle-50k    3 instances, IDLE_CLIENTS (50000) idle stream clients split over them (only when named in SCENARIOS)
# Each scenario gets the same total of producer connections and a fresh ledger; one http-ingest process per instance
# (WARMUP seconds of warm-up, default 10: the JIT's tier-1 recompilation of a fresh process costs a third of a core for
# several seconds, then the measured window), and the instances' events/s are summed. Over the measured window the CPU
# time of every server process, of PostgreSQL (postmaster and backends) and of Redis is read from /proc, and printed as
# cores used and as CPU microseconds per committed event: where the box's two cores go.
# Usage: [WARMUP=s] [SCENARIOS="cluster-3 …"] [AUDITSTREAM_BIN=path] bench/run-cluster.sh [seconds] [connections in all] [batch]
#   AUDITSTREAM_BIN runs another build of the server (e.g. a before/after pair in one session).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-12}
batch=${3:-1000}
warmup=${WARMUP:-10}
[ -n "${AUDITSTREAM_BIN:-}" ] || dotnet build src/AuditStream.Server -c Release -nologo -v q
dotnet build bench/AuditStream.Benchmarks -c Release -nologo -v q
dotnet build bench/AuditStream.LoadGen -c Release -nologo -v q
S=${AUDITSTREAM_BIN:-src/AuditStream.Server/bin/Release/net10.0/auditstream}
S=$(realpath "$S"); export AUDITSTREAM_BIN=$S
B="dotnet bench/AuditStream.Benchmarks/bin/Release/net10.0/AuditStream.Benchmarks.dll"
L="dotnet bench/AuditStream.LoadGen/bin/Release/net10.0/AuditStream.LoadGen.dll"
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
  for port in "$@"; do
    $B http-ingest --url "http://127.0.0.1:$port/" --token "$token" --connections "$per" --batch "$batch" --seconds "$seconds" --warmup "$warmup" >"$work/$scenario.$port" & pids+=($!)
  done
  # The CPU window starts when the load generators' measured window does (they started together).
  sleep "$warmup"
  # shellcheck disable=SC2086
  ticks $PROCESSES >"$work/$scenario.cpu-before"
  started=$(date +%s.%N)
  wait "${pids[@]}"
  local wall; wall=$(echo "$(date +%s.%N) - $started" | bc)
  # The run's processes may have started backends while it ran: read the groups again for the after snapshot.
  # shellcheck disable=SC2086
  ticks $(processes_now) >"$work/$scenario.cpu-after"
  cat "$work/$scenario".[0-9]* | sed "s/^/  $scenario: /"
  local eps; eps=$(cat "$work/$scenario".[0-9]* | grep -o 'events_per_s=[0-9]*' | cut -d= -f2 | paste -sd+ | bc)
  echo "$scenario instances=$# connections=$((per * $#)) events_per_s=$eps"
  cpu_report "$scenario" "$work/$scenario.cpu-before" "$work/$scenario.cpu-after" "$wall" "$eps"
}

on_cluster() { # scenario ports [ports the producers post to; default: all]
  local scenario=$1 ports=$2 targets=${3:-$2} log="$work/cluster-$1.log"
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
  if [ "$scenario" = idle-50k ]; then
    # IDLE_CLIENTS (50000) idle stream clients split over the 3 instances, one load generator process per instance
    # (a process holds at most 20,000 descriptors): each one's row gives its instance's RSS and heap per connection.
    local reader n=0 pids=() per=$(( (${IDLE_CLIENTS:-50000} + 2) / 3 ))
    reader=$(AuditStream__Auth__SigningKey="$key" $S token issue --role admin --tenant '*' --ttl 1h)
    for port in $ports; do
      n=$((n + 1))
      $L run --scenario "idle-50k-$port" --url "http://127.0.0.1:$port/" --token "$reader" --idle --clients "$per" \
        --server-pid "$(cat "$CLUSTER_DIR/pids/instance-$n")" --csv "$work/idle.csv" --seconds "$seconds" >"$work/idle.$port" 2>&1 & pids+=($!)
    done
    wait "${pids[@]}" || true
    cat "$work"/idle.* | sed 's/^/  idle-50k: /'
  elif [ "$scenario" = follower-latency ]; then
    # Producer → leader (8081) at RATE events/s, SUBSCRIBERS stream clients on a follower (8082): send → socket.
    local reader; reader=$(AuditStream__Auth__SigningKey="$key" $S token issue --role admin --tenant '*' --ttl 1h)
    # Twice on the same cluster: from the producer's send (the durable commit included), then from the commit (the
    # event's timestamp, which the leader reads when the batch's commit starts: an upper bound of commit → socket).
    local from
    for from in sent commit; do
      $L run --scenario "follower-latency-from-$from" --url http://127.0.0.1:8082/ --producer-url http://127.0.0.1:8081/ --token "$reader" \
        --producer-token "$token" --server-pid "$(cat "$CLUSTER_DIR/pids/instance-2")" --csv "$work/latency.csv" --latency-from "$from" \
        --clients "${SUBSCRIBERS:-100}" --rate "${RATE:-1000}" --warmup "$warmup" --seconds "$seconds" --drain 2 | sed "s/^/  follower-latency (from $from): /"
    done
  else
    # shellcheck disable=SC2086
    ingest "$scenario" "$token" $targets
  fi
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

want() { [[ " ${SCENARIOS:-cluster-3 cluster-3-leader postgres-1 follower-latency sqlite-1} " == *" $1 "* ]]; }
if want cluster-3; then on_cluster cluster-3 "8081 8082 8083"; fi
# The same cluster with every producer on the leader: what following the ledger costs the followers, without forwarding.
if want cluster-3-leader; then on_cluster cluster-3-leader "8081 8082 8083" "8081"; fi
if want postgres-1; then on_cluster postgres-1 "8081"; fi
# Stream latency on a follower at a steady rate, with the hub's per-client limits and activity events off as in bench/run-stream.sh.
if want follower-latency; then
  AuditStream__Hub__MaxClientsPerSubject=0 AuditStream__Hub__MaxClientsPerAddress=0 AuditStream__Hub__RateLimitPerSecond=0 \
    AuditStream__Hub__RateLimitPerMinute=0 AuditStream__Hub__RecordActivity=false on_cluster follower-latency "8081 8082 8083"
fi
if want idle-50k; then
  # No audit trail of the stream's own connections (as in bench/run-stream.sh): each connect would be an event
  # delivered to every client connected before it.
  AuditStream__Hub__MaxClients=20000 AuditStream__Hub__MaxClientsPerSubject=0 AuditStream__Hub__MaxClientsPerAddress=0 \
    AuditStream__Hub__RecordActivity=false on_cluster idle-50k "8081 8082 8083"
fi
if want sqlite-1; then on_sqlite; fi
