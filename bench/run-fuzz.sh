#!/usr/bin/env bash
# The long fuzz run of docs/security.md#fuzzing: every target of tests/AuditStream.Fuzz.Tests for SECONDS each (default
# 600) instead of the CI smoke run's fixed ~115,000 inputs. Prints one "fuzz <target>: N inputs in T s" line per target.
# A crash fails the test and prints the CsCheck seed; rerun it with CsCheck_Seed=<seed> bench/run-fuzz.sh, keep the
# shrunk input as a regression test (FuzzRegressionTests) and add it to the corpus (tests/AuditStream.Fuzz.Tests/corpus/).
# Usage: bench/run-fuzz.sh [seconds-per-target] [test-name-filter]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
filter=${2:-FuzzSmokeTests}
dotnet build tests/AuditStream.Fuzz.Tests -c Release -nologo -v q
echo "load before: $(uptime)"
AUDITSTREAM_FUZZ_SECONDS=$seconds dotnet test tests/AuditStream.Fuzz.Tests -c Release --no-build -nologo \
  --filter "FullyQualifiedName~$filter" --logger "console;verbosity=detailed" 2>&1 \
  | grep -E '^ *fuzz |Passed!|Failed!|CsCheck_Seed|^ *Failed ' || true
echo "load after: $(uptime)"
