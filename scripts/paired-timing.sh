#!/usr/bin/env bash
# Paired timing: the wall time of `hmm4j check` and `hmm4j selftest` at an old revision
# against the current tree, measured back to back as pairs that alternate which one runs
# first (old-new, then new-old, ...), so that a change of the machine's load during the
# measurement falls on both sides alike. Prints every run with the load average before it,
# then per command the median of the per-pair ratios old/new (above 1: the current tree is
# faster) and the ratio of the total times.
#
# The old revision is exported with `git archive` into a temporary directory and built
# there with `mvn -B -q -DskipTests package`; the current tree is built the same way in
# place (its cli/target/hmm4j.jar). Nothing is installed into ~/.m2. Not part of ./verify.
#
# Usage: scripts/paired-timing.sh REV [PAIRS] [COMMAND...]
#   REV      a git revision of this repository (a commit, a tag, a branch, HEAD~3)
#   PAIRS    pairs per command (default 5)
#   COMMAND  the hmm4j commands to time (default: check selftest); each is one word
# Environment: JAVA_HOME (a JDK 21 or newer; else scripts/find-jdk.sh is asked),
#   KEEP=1 keeps the temporary directory, NO_BUILD=1 uses the current tree's jar as it is.
# Exit status: 0 measured, 1 a build failed, 2 bad use.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rev=${1:-}
pairs=${2:-5}
shift 2 || shift $# || true
commands=("$@")
[ ${#commands[@]} -gt 0 ] || commands=(check selftest)
if [ -z "$rev" ]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
case "$pairs" in ''|*[!0-9]*|0) echo "paired-timing: PAIRS must be a positive whole number, got '$pairs'" >&2; exit 2;; esac
commit=$(git -C "$here" rev-parse --verify --quiet "$rev^{commit}") \
  || { echo "paired-timing: '$rev' is not a revision of $here" >&2; exit 2; }
if [ -z "${JAVA_HOME:-}" ] && [ -x "$here/scripts/find-jdk.sh" ]; then
  JAVA_HOME=$("$here/scripts/find-jdk.sh" 2>/dev/null || true)
fi
[ -n "${JAVA_HOME:-}" ] || { echo "paired-timing: set JAVA_HOME to a JDK 21 or newer" >&2; exit 2; }
export JAVA_HOME
java="$JAVA_HOME/bin/java"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/paired-timing.XXXXXX")
cleanup() { [ "${KEEP:-0}" = 1 ] && echo "paired-timing: kept $tmp" >&2 || rm -rf "$tmp"; }
trap cleanup EXIT

build() { # build DIR LABEL
  echo "paired-timing: building $2 in $1" >&2
  if ! (cd "$1" && mvn -B -q -DskipTests package >"$tmp/build-$2.log" 2>&1); then
    echo "paired-timing: the build of $2 failed; last lines of its log:" >&2
    tail -n 30 "$tmp/build-$2.log" >&2
    exit 1
  fi
}

mkdir -p "$tmp/old"
git -C "$here" archive "$commit" | tar -x -C "$tmp/old"
build "$tmp/old" "old ($(git -C "$here" rev-parse --short "$commit"))"
if [ "${NO_BUILD:-0}" != 1 ]; then
  build "$here" "new (current tree)"
fi
old_jar="$tmp/old/cli/target/hmm4j.jar"
new_jar="$here/cli/target/hmm4j.jar"
for j in "$old_jar" "$new_jar"; do
  [ -f "$j" ] || { echo "paired-timing: no jar at $j" >&2; exit 1; }
done

# One timed run: prints milliseconds; the command's exit status is recorded, not fatal.
timed() { # timed JAR COMMAND
  local start end status=0
  start=$(date +%s%N)
  "$java" -jar "$1" "$2" >"$tmp/out" 2>&1 || status=$?
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000000 )) $status"
}

load() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || uptime | sed 's/.*load average: //; s/,.*//'; }

echo "paired-timing: old $(git -C "$here" rev-parse --short "$commit") against the current tree" \
  "($(git -C "$here" rev-parse --short HEAD)$(git -C "$here" diff --quiet HEAD -- . 2>/dev/null || echo ', with changes')), $pairs pairs per command, $(nproc) cores"
echo "start: $(uptime)"
printf '%-10s %4s %-5s %8s %6s %6s\n' command pair first ms-old ms-new load
summary=()
for cmd in "${commands[@]}"; do
  ratios=()
  total_old=0
  total_new=0
  for p in $(seq 1 "$pairs"); do
    l=$(load)
    if [ $((p % 2)) = 1 ]; then
      read -r o os < <(timed "$old_jar" "$cmd")
      read -r n ns < <(timed "$new_jar" "$cmd")
      first=old
    else
      read -r n ns < <(timed "$new_jar" "$cmd")
      read -r o os < <(timed "$old_jar" "$cmd")
      first=new
    fi
    [ "$os" = "$ns" ] || echo "paired-timing: $cmd exit status differs in pair $p: old $os, new $ns" >&2
    printf '%-10s %4d %-5s %8d %6d %6s\n' "$cmd" "$p" "$first" "$o" "$n" "$l"
    ratios+=("$(awk -v o="$o" -v n="$n" 'BEGIN { printf "%.4f", (n > 0 ? o / n : 0) }')")
    total_old=$((total_old + o))
    total_new=$((total_new + n))
  done
  median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }')
  total=$(awk -v o="$total_old" -v n="$total_new" 'BEGIN { printf "%.2f", (n > 0 ? o / n : 0) }')
  summary+=("$(printf '%-10s median old/new %.2fx, total %d ms / %d ms = %sx' "$cmd" "$median" "$total_old" "$total_new" "$total")")
done
echo "end: $(uptime)"
printf '%s\n' "${summary[@]}"
