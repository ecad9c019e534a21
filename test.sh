#!/usr/bin/env bash
# Runs every test of the repository on a fresh machine with the .NET SDK.
# Installs or starts whatever the tests need, then prints a last line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

# Packages the tests need from apt, installed in the background while .NET builds (one apt-get: dpkg takes one lock).
# - chromium: the TypeScript client's browser tests drive the Debian chromium through playwright-core (if it cannot be
#   installed, the browser tests fail saying so).
# - postgresql: the PostgreSQL ledger tests start their own throw-away server (initdb in a temp dir as user postgres,
#   tests/AuditStream.Ledger.Tests/Support/PostgresServer.cs), so the package's own cluster is not created
#   (create_main_cluster = false, kept with --force-confold) and no service runs. AUDITSTREAM_TEST_POSTGRES (a connection
#   string) points the tests at an existing server instead.
# - redis-server: the backplane tests start their own throw-away redis-server (loopback port, temp dir, no persistence,
#   tests/AuditStream.Streaming.Tests/Support/RedisServer.cs), so the package's service is neither started (a
#   policy-rc.d that refuses every start, only for this install and only where there is none) nor enabled.
#   AUDITSTREAM_TEST_REDIS (host:port) points the tests at an existing server instead.
# dotnet test, and so the JS tests after it, waits for the install (about a minute on a fresh machine, mostly download).
apt_packages=()
if [ -z "${AUDITSTREAM_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then apt_packages+=(chromium); fi
if [ -z "${AUDITSTREAM_TEST_POSTGRES:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then apt_packages+=(postgresql); fi
if [ -z "${AUDITSTREAM_TEST_REDIS:-}" ] && ! command -v redis-server >/dev/null 2>&1; then apt_packages+=(redis-server); fi
apt_install=""
if [ ${#apt_packages[@]} -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo -n"
  (
    if [[ " ${apt_packages[*]} " == *" postgresql "* ]]; then
      conf=/etc/postgresql-common/createcluster.conf
      $sudo_cmd mkdir -p "$(dirname "$conf")" && $sudo_cmd touch "$conf"
      $sudo_cmd sed -i '/^\s*#\?\s*create_main_cluster\b/d' "$conf"
      echo "create_main_cluster = false" | $sudo_cmd tee -a "$conf" >/dev/null
    fi
    policy=/usr/sbin/policy-rc.d; own_policy=""
    if [[ " ${apt_packages[*]} " == *" redis-server "* ]] && [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' | $sudo_cmd tee "$policy" >/dev/null && $sudo_cmd chmod +x "$policy" && own_policy=1
    fi
    $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confold "${apt_packages[@]}"
    status=$?
    [ -n "$own_policy" ] && $sudo_cmd rm -f "$policy"
    if [[ " ${apt_packages[*]} " == *" redis-server "* ]]; then
      # Not started at boot either (systemd where it runs, the SysV links otherwise).
      $sudo_cmd systemctl disable redis-server >/dev/null 2>&1 || $sudo_cmd update-rc.d redis-server disable >/dev/null 2>&1 || true
    fi
    exit $status
  ) >"$log_dir/apt.log" 2>&1 &
  apt_install=$!
fi

if ! dotnet build AuditStream.slnx -c Release -nologo -v q 2>&1 | tee "$log_dir/build.log" | tail -n 20; then
  echo "build failed"
fi
if ! grep -q "Build succeeded" "$log_dir/build.log"; then
  echo "0 passed, 1 failed"
  exit 1
fi

if [ -n "$apt_install" ]; then
  if ! wait "$apt_install"; then
    echo "apt-get could not install ${apt_packages[*]} (the tests that need them will fail):"; tail -n 20 "$log_dir/apt.log"
  fi
  apt_install=""
fi

dotnet test AuditStream.slnx -c Release --no-build -nologo \
  --logger "console;verbosity=minimal" 2>&1 | tee "$log_dir/test.log" \
  | grep -vE "^\s*$|^(info|warn): |^      " || true

passed=0; failed=0; skipped=0
# vstest prints one summary line per test assembly, e.g. "Passed!  - Failed: 0, Passed: 42, Skipped: 0, Total: 42, ..."
while IFS= read -r line; do
  f=$(sed -nE 's/.*Failed: *([0-9]+).*/\1/p' <<<"$line")
  p=$(sed -nE 's/.*Passed: *([0-9]+).*/\1/p' <<<"$line")
  s=$(sed -nE 's/.*Skipped: *([0-9]+).*/\1/p' <<<"$line")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
done < <(grep -E "^(Passed|Failed)!" "$log_dir/test.log")

expected=$(grep -cE 'Path="(tests|bench)/[^"]*Tests\.csproj' AuditStream.slnx)
reported=$(grep -cE "^(Passed|Failed)!" "$log_dir/test.log")
if [ "$reported" -lt "$expected" ]; then
  echo "only $reported of $expected test assemblies reported a result (a test host crashed?)"
  failed=$((failed + 1))
fi

# Adds the counts of a node test runner's spec report ($2, exit code $3) to the totals, naming the suite ($1).
add_node_results() {
  local name=$1 log=$2 exit_code=$3 n_passed n_failed n_cancelled
  n_passed=$(sed -nE 's/^ℹ pass ([0-9]+)$/\1/p' "$log" | tail -n 1)
  n_failed=$(sed -nE 's/^ℹ fail ([0-9]+)$/\1/p' "$log" | tail -n 1)
  # Tests cancelled because a before hook threw (no server, no Chromium) count as failed, not as nothing.
  n_cancelled=$(sed -nE 's/^ℹ cancelled ([0-9]+)$/\1/p' "$log" | tail -n 1)
  n_failed=$(( ${n_failed:-0} + ${n_cancelled:-0} ))
  [ "$exit_code" -ne 0 ] && [ "$n_failed" -eq 0 ] && n_failed=1
  if [ -z "$n_passed" ]; then
    echo "$name: the node test runner reported no result:"; cat "$log"
    failed=$((failed + 1))
  else
    [ "$n_failed" -gt 0 ] && cat "$log"
    echo "$name tests: ${n_passed} passed, ${n_failed} failed"
    passed=$((passed + n_passed)); failed=$((failed + n_failed))
  fi
}

# The TypeScript client (clients/js): built with tsc, tested with node's runner against the auditstream binary built above,
# in Node and in Chromium (test/browser.test.mjs).
js_log="$log_dir/js.log"
if ! command -v npm >/dev/null 2>&1; then
  echo "clients/js: npm is not installed (Node.js 20+ is needed for the TypeScript client's tests)"
  failed=$((failed + 1))
elif ! (cd clients/js && npm ci --no-audit --no-fund --loglevel=error && npm run -s build) >"$js_log" 2>&1; then
  echo "clients/js: npm ci or the tsc build failed:"; cat "$js_log"
  failed=$((failed + 1))
else
  (cd clients/js && node --experimental-websocket --no-warnings --test --test-reporter=spec test/*.test.mjs) >"$js_log" 2>&1
  add_node_results clients/js "$js_log" $?
fi

# The web console (clients/dashboard): its built assets are committed in src/AuditStream.Server/wwwroot (so `dotnet run`
# serves it with only the .NET SDK); one test checks that esbuild rebuilds them from the source byte for byte and that
# the bundle stays under 150 kB gzipped, then the browser tests drive Chromium against the auditstream binary built above.
console_log="$log_dir/console.log"
if ! command -v npm >/dev/null 2>&1; then
  echo "clients/dashboard: npm is not installed (Node.js 20+ is needed for the console's tests)"
  failed=$((failed + 1))
elif ! (cd clients/dashboard && npm ci --no-audit --no-fund --loglevel=error) >"$console_log" 2>&1; then
  echo "clients/dashboard: npm ci failed:"; cat "$console_log"
  failed=$((failed + 1))
else
  if (cd clients/dashboard && node build.mjs --check) >"$console_log" 2>&1; then
    echo "console bundle: 1 passed ($(tail -n 1 "$console_log"))"
    passed=$((passed + 1))
  else
    echo "console bundle check failed:"; cat "$console_log"
    failed=$((failed + 1))
  fi
  (cd clients/dashboard && node --test --test-reporter=spec test/*.test.mjs) >"$console_log" 2>&1
  add_node_results clients/dashboard "$console_log" $?
fi

# The benchmark harness (issue 7) must not rot: a seconds-long smoke run of every system (AuditStream, SignalR,
# nats-server, raw loopback) through the load generator; it installs nats-server itself when missing.
smoke_log="$log_dir/smoke.log"
# Every system's row must carry latency figures (a p50, not "–"): a load generator that counts deliveries but times
# none would otherwise pass unnoticed.
smoke_untimed() { awk -F'|' 'NF >= 17 && $2 ~ /^ smoke / && $8 ~ /–/ { print $3 }' "$smoke_log"; }
if bash bench/run.sh --smoke >"$smoke_log" 2>&1 && [ "$(awk -F'|' 'NF >= 17 && $2 ~ /^ smoke /' "$smoke_log" | wc -l)" -ge 4 ] && [ -z "$(smoke_untimed)" ]; then
  echo "bench smoke: 1 passed"
  passed=$((passed + 1))
else
  echo "bench smoke failed:"; tail -n 40 "$smoke_log"
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
