#!/usr/bin/env bash
# Runs every test of the repository on a fresh machine with the .NET SDK.
# Installs or starts whatever the tests need, then prints a last line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

if ! dotnet build AuditStream.slnx -c Release -nologo -v q 2>&1 | tee "$log_dir/build.log" | tail -n 20; then
  echo "build failed"
fi
if ! grep -q "Build succeeded" "$log_dir/build.log"; then
  echo "0 passed, 1 failed"
  exit 1
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

expected=$(grep -cE 'Path="tests/[^"]*Tests\.csproj' AuditStream.slnx)
reported=$(grep -cE "^(Passed|Failed)!" "$log_dir/test.log")
if [ "$reported" -lt "$expected" ]; then
  echo "only $reported of $expected test assemblies reported a result (a test host crashed?)"
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
