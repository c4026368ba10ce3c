#!/usr/bin/env bash
# Time to first failure of every known-bad scenario of the catalogue, per strategy, as a
# markdown table (docs/performance.md, "Time to first failure per strategy").
#
#   scripts/ttff-table.sh [RUNS] [STRATEGY...]
#
# RUNS (default 3000) is the budget of runs per scenario and strategy; the strategies default
# to: random pct:3 pos dfs:2 portfolio. The known-bad scenarios are those whose expected
# verdict is not "clean" (pending ones are left out), read from one 'hmm4j check --json
# --runs 1'. Then, per strategy, one 'hmm4j check --json --strategy S --runs RUNS --only ...'
# over them; each cell is "runs to the first failure / milliseconds to it" as hmm4j check
# measures them (seeds from 1, the check's default workers), "not found" when the budget ran
# out, or the other verdict found instead. Everything is deterministic except the times.
# Needs jq. Progress goes to standard error, the table to standard output.
set -euo pipefail

root=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/..
hmm4j="$root/hmm4j"
runs=${1:-3000}
shift || true
strategies=("$@")
if [ ${#strategies[@]} -eq 0 ]; then
  strategies=(random pct:3 pos dfs:2 portfolio)
fi
command -v jq >/dev/null 2>&1 || { echo "ttff-table: jq is needed" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "ttff-table: listing the catalogue..." >&2
"$hmm4j" check --json --runs 1 --strategy random > "$tmp/catalogue.json" || true
bad=$(jq -r '.scenarios[] | select(.expected != "clean" and .actual != "pending") | .id' "$tmp/catalogue.json" | paste -sd, -)
if [ -z "$bad" ]; then
  echo "ttff-table: no known-bad scenario in the catalogue" >&2
  exit 1
fi

for s in "${strategies[@]}"; do
  echo "ttff-table: $s over $(tr ',' '\n' <<<"$bad" | wc -l) known-bad scenarios, up to $runs runs each..." >&2
  "$hmm4j" check --json --strategy "$s" --runs "$runs" --only "$bad" > "$tmp/$s.json" || true
done

printf '| scenario | expected |'
for s in "${strategies[@]}"; do printf ' %s |' "$s"; done
printf '\n|---|---|'
for s in "${strategies[@]}"; do printf -- '---:|'; done
printf '\n'
for id in $(tr ',' ' ' <<<"$bad"); do
  expected=$(jq -r --arg id "$id" '.scenarios[] | select(.id == $id) | .expected' "$tmp/catalogue.json")
  printf '| %s | %s |' "$id" "$expected"
  for s in "${strategies[@]}"; do
    cell=$(jq -r --arg id "$id" --arg runs "$runs" '.scenarios[] | select(.id == $id) |
      if .asExpected then "\(.runs) / \(.timeMs) ms"
      elif .actual == "clean" then "not found in \($runs)"
      else "\(.actual) (\(.runs) / \(.timeMs) ms)" end' "$tmp/$s.json")
    printf ' %s |' "$cell"
  done
  printf '\n'
done
