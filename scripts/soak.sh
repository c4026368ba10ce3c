#!/usr/bin/env bash
# Soak: every known-good design of the catalogue explored for RUNS runs under each strategy,
# with fresh seeds per strategy; prints, per strategy, the runs done, the false reports (a
# known-good design reported with a failure: must be 0) and the runs per second.
# Not part of ./verify. Needs jq. Usage: scripts/soak.sh [RUNS] [STRATEGY...]
#   RUNS        runs per design and strategy (default 1000000)
#   STRATEGY    default: portfolio random pos pct:3 pct:2
# Exit status: 0 no false report, 1 a false report (its scenario and rule are printed), 2 bad use.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-1000000}
shift || true
strategies=("$@")
[ ${#strategies[@]} -gt 0 ] || strategies=(portfolio random pos pct:3 pct:2)
case "$runs" in ''|*[!0-9]*) echo "soak: RUNS must be a whole number, got '$runs'" >&2; exit 2;; esac
command -v jq >/dev/null 2>&1 || { echo "soak: needs jq (apt-get install jq)" >&2; exit 2; }
hmm4j="$here/hmm4j"
clean=$("$hmm4j" list --json | jq -r '[.scenarios[] | select(.expected == "clean") | .id] | join(",")')
[ -n "$clean" ] || { echo "soak: no known-good design in the catalogue" >&2; exit 2; }
echo "soak: $(tr ',' '\n' <<<"$clean" | wc -l) known-good designs, $runs runs each per strategy"
printf '%-10s %12s %14s %10s\n' strategy runs false-reports runs/s
false_total=0
i=0
for s in "${strategies[@]}"; do
  # Each strategy gets seeds of its own, so the strategies do not repeat one another's runs.
  seed=$((1 + i * runs))
  i=$((i + 1))
  json=$("$hmm4j" check --only "$clean" --runs "$runs" --seed "$seed" --strategy "$s" --json || true)
  done_runs=$(jq '[.scenarios[].runs] | add' <<<"$json")
  ms=$(jq '[.scenarios[].timeMs] | add' <<<"$json")
  falses=$(jq '[.scenarios[] | select(.actual != "clean")] | length' <<<"$json")
  jq -r '.scenarios[] | select(.actual != "clean") | "  false report: \(.id) -> \(.actualRule) (seed \(.failures[0].seed))"' <<<"$json"
  rate=$(jq -n --argjson r "$done_runs" --argjson t "$ms" 'if $t > 0 then ($r * 1000 / $t | floor) else 0 end')
  printf '%-10s %12s %14s %10s\n' "$s" "$done_runs" "$falses" "$rate"
  false_total=$((false_total + falses))
done
[ "$false_total" -eq 0 ]
