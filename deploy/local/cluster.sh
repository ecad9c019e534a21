#!/usr/bin/env bash
# A local AuditStream cluster for developers: a throw-away PostgreSQL (initdb in a temp directory), redis-server on a
# free port and 3 `auditstream serve` instances on 8081-8083 sharing one ledger, one checkpoint signing key and one
# token secret. Ctrl-C (or `deploy/local/cluster.sh stop` from another shell) stops everything and deletes the data.
#
#   deploy/local/cluster.sh            # build (Release) if needed, start, wait for Ctrl-C
#   deploy/local/cluster.sh stop       # stop a cluster started from this checkout
#
# Environment: AUDITSTREAM_BIN (the server executable; default: this checkout's Release build), PG_BIN (default: the
# newest /usr/lib/postgresql/<version>/bin), PORTS (default "8081 8082 8083").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$ROOT/deploy/local/.cluster"   # where a running cluster records its temp directory, for `stop`
PORTS="${PORTS:-8081 8082 8083}"
BIN="${AUDITSTREAM_BIN:-$ROOT/src/AuditStream.Server/bin/Release/net10.0/auditstream}"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"

as_postgres() {
  # The PostgreSQL server refuses to run as root: run its tools as the postgres user then.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_ready() { # url seconds
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1/ready" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then echo "error: $1 was not ready within $2 s; see $DIR/logs" >&2; return 1; fi
    sleep 0.5
  done
}

stop_cluster() { # dir
  local dir="$1"
  [ -d "$dir" ] || return 0
  for pidfile in "$dir"/pids/*; do
    [ -f "$pidfile" ] || continue
    local pid; pid="$(cat "$pidfile")"
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pidfile in "$dir"/pids/*; do
    [ -f "$pidfile" ] || continue
    local pid; pid="$(cat "$pidfile")"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ -f "$dir/pg/PG_VERSION" ]; then as_postgres "$PG_BIN/pg_ctl" -D "$dir/pg" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$dir"
  echo "stopped; removed $dir"
}

if [ "${1:-start}" = stop ]; then
  [ -f "$STATE" ] || { echo "no cluster recorded in $STATE" >&2; exit 1; }
  stop_cluster "$(cat "$STATE")"
  rm -f "$STATE"
  exit 0
fi

[ -x "$PG_BIN/initdb" ] || { echo "error: PostgreSQL server binaries not found (apt-get install postgresql, or set PG_BIN)" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "error: redis-server not found (apt-get install redis-server)" >&2; exit 1; }
if [ ! -x "$BIN" ]; then
  dotnet build "$ROOT/src/AuditStream.Server" -c Release -nologo -v q
fi

DIR="$(mktemp -d /tmp/auditstream-cluster.XXXXXX)"
chmod 755 "$DIR"
mkdir -p "$DIR/logs" "$DIR/pids"
echo "$DIR" > "$STATE"
trap 'stop_cluster "$DIR"; rm -f "$STATE"; exit 0' INT TERM
trap 'stop_cluster "$DIR"; rm -f "$STATE"' ERR

# PostgreSQL: initdb into the temp directory (owned by postgres when run as root), loopback only, fsync on.
PG_PORT="$(free_port)"
mkdir -p "$DIR/pg"
if [ "$(id -u)" = 0 ]; then chown postgres "$DIR/pg"; fi
as_postgres "$PG_BIN/initdb" -D "$DIR/pg" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >"$DIR/logs/initdb.log"
as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg/server.log" -w -t 60 \
  -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$DIR/pg -c max_connections=200" start >/dev/null
CONNECTION="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"

# Redis: a free port, no persistence.
REDIS_PORT="$(free_port)"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >"$DIR/logs/redis.log" 2>&1 &
echo $! > "$DIR/pids/redis"

# One token secret and one checkpoint signing key for all: the first instance creates the key file, the others read it.
SECRET="$(head -c 32 /dev/urandom | base64)"
export AuditStream__Ledger__Provider=Postgres
export AuditStream__Ledger__ConnectionString="$CONNECTION"
export AuditStream__Ledger__SigningKeyPath="$DIR/checkpoint-signer.key"
export AuditStream__Backplane__Redis="127.0.0.1:$REDIS_PORT"
export AuditStream__Auth__SigningKey="$SECRET"

n=0
for port in $PORTS; do
  n=$((n + 1))
  AuditStream__Cluster__AdvertisedUrl="http://127.0.0.1:$port" AuditStream__Cluster__InstanceId="local-$n" \
    "$BIN" serve --urls "http://127.0.0.1:$port" --data "$DIR/instance-$n" >"$DIR/logs/instance-$n.log" 2>&1 &
  echo $! > "$DIR/pids/instance-$n"
  # The first instance creates the ledger's schema and the signing key; the others start once it is ready.
  if [ $n = 1 ]; then wait_ready "http://127.0.0.1:$port" 120; fi
done
for port in $PORTS; do wait_ready "http://127.0.0.1:$port" 120; done

echo "AuditStream cluster ready (data and logs in $DIR):"
for port in $PORTS; do echo "  http://127.0.0.1:$port   $(curl -fsS "http://127.0.0.1:$port/ready" | python3 -c 'import json,sys; print(json.load(sys.stdin)["checks"]["ledger_cluster"]["description"])')"; done
echo "  PostgreSQL: $CONNECTION"
echo "  Redis:      127.0.0.1:$REDIS_PORT"
echo "A token (any instance accepts it):"
echo "  TOKEN=\$(AuditStream__Auth__SigningKey='$SECRET' $BIN token issue --role admin --tenant '*')"
echo "Ctrl-C or '$0 stop' stops the cluster and deletes $DIR."
wait
