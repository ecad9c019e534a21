#!/usr/bin/env bash
# Cluster ingest benchmark of docs/benchmarks.md: durable HTTP ingest (every 201 = committed) in one run, with
#   cluster-3   3 instances on one PostgreSQL ledger (deploy/local/cluster.sh), the producer connections spread over all 3
#   postgres-1  1 instance on PostgreSQL (the same script with one port)
#   sqlite-1    1 instance on its embedded SQLite ledger
# Each scenario gets the same total of producer connections and a fresh ledger; one http-ingest process per instance
# (2 s warm-up, then the measured window), and the instances' events/s are summed.
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

ingest() { # scenario token port…
  local scenario=$1 token=$2; shift 2
  local per=$((connections / $#)) pids=()
  for port in "$@"; do
    $B http-ingest --url "http://127.0.0.1:$port/" --token "$token" --connections "$per" --batch "$batch" --seconds "$seconds" >"$work/$scenario.$port" & pids+=($!)
  done
  wait "${pids[@]}"
  cat "$work/$scenario".* | sed "s/^/  $scenario: /"
  echo "$scenario instances=$# connections=$((per * $#)) events_per_s=$(cat "$work/$scenario".* | grep -o 'events_per_s=[0-9]*' | cut -d= -f2 | paste -sd+ | bc)"
}

on_cluster() { # scenario ports
  local scenario=$1 ports=$2 log="$work/cluster-$1.log"
  PORTS="$ports" deploy/local/cluster.sh >"$log" 2>&1 & local cluster=$!
  for _ in $(seq 360); do grep -q "stops the cluster" "$log" && break; kill -0 $cluster 2>/dev/null || break; sleep 0.5; done
  grep -q "stops the cluster" "$log" || { cat "$log" >&2; exit 1; }
  local key; key=$(grep -o "SigningKey='[^']*'" "$log" | cut -d"'" -f2)
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
  ingest sqlite-1 "$token" $port
  kill $server; wait $server 2>/dev/null || true; rm -rf "$data"
}

on_cluster cluster-3 "8081 8082 8083"
on_cluster postgres-1 "8081"
on_sqlite
