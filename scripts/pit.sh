#!/usr/bin/env bash
# Mutation testing of the model's and checkers' core classes with PIT (docs/reliability.md).
#
#   scripts/pit.sh                                every core class (long: see docs/reliability.md)
#   scripts/pit.sh 'hmm4j.kernel.mm.notifier.*'   a class glob (PIT's syntax; comma-separated list)
#
# Each module's tests run against its own classes and, with PIT's crossModule, against the classes
# of the modules it depends on, so the drivers' tests and the catalogue's scenarios count. A mutant
# is killed when any module's tests kill it; scripts/PitAggregate.java joins the module reports and
# prints one score per class. Not part of ./verify.
set -euo pipefail
cd "$(dirname "$0")/.."
CORE='hmm4j.kernel.mm.*,hmm4j.check.*'
TARGETS="${1:-$CORE}"
THREADS="${PIT_THREADS:-2}"
# PIT_MODULES=sim,check,kernel runs only the model's own tests (minutes instead of an hour).
MODULES="${PIT_MODULES:-sim,check,explore,kernel,testkit,drivers,scenarios}"
if [[ -z "${JAVA_HOME:-}" ]] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])'; then
  for j in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    if [[ -x "$j/bin/java" ]] && "$j/bin/java" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])'; then
      export JAVA_HOME="$j"; break
    fi
  done
fi
rm -rf ./*/target/pit-reports
mvn -B -q -Ppit -pl "$MODULES" verify \
  -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false \
  -DtargetClasses="$TARGETS" -Dpit.threads="$THREADS"
"$JAVA_HOME/bin/java" scripts/PitAggregate.java .
