#!/usr/bin/env bash
# Renders an HTML report (hmm4j.explore.report.HtmlReport) to a PNG with a headless
# Chromium or Chrome, to check that the page draws in a real browser.
#
#   scripts/screenshot-report.sh REPORT.html OUT.png [WIDTH [HEIGHT]]
#
# The browser is $HMM4J_BROWSER if set, else the first of chromium, chromium-browser,
# google-chrome, google-chrome-stable, chrome, headless_shell on the PATH. Without one the
# script prints one line starting with "skipped:" and exits 0 (a browser is optional: on
# Debian, `apt-get install chromium` provides one). The page loads nothing from the network.
#
# With HMM4J_DOM_OUT=FILE it also loads the page once more at the same window size, lets its
# scripts run, and writes the resulting DOM to FILE (`--dump-dom`): a test can add a script
# to a copy of a report that measures where the browser laid things out.
# HMM4J_REQUIRE_BROWSER=1 (set by .ci/run) turns "no browser" into an error (exit 1).
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 REPORT.html OUT.png [WIDTH [HEIGHT]]" >&2
  exit 2
fi
report=$1
out=$2
width=${3:-1400}
height=${4:-1000}

if [ ! -f "$report" ]; then
  echo "screenshot-report: no such file: $report" >&2
  exit 2
fi

browser=${HMM4J_BROWSER:-}
if [ -z "$browser" ]; then
  for name in chromium chromium-browser google-chrome google-chrome-stable chrome headless_shell; do
    if command -v "$name" >/dev/null 2>&1; then
      browser=$(command -v "$name")
      break
    fi
  done
fi
if [ -z "$browser" ]; then
  if [ "${HMM4J_REQUIRE_BROWSER:-}" = 1 ]; then
    echo "screenshot-report: no headless Chromium or Chrome found and HMM4J_REQUIRE_BROWSER=1" >&2
    exit 1
  fi
  echo "skipped: no headless Chromium or Chrome found (set HMM4J_BROWSER or install chromium)"
  exit 0
fi

abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
mkdir -p "$(dirname "$out")"
out_abs=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
profile=$(mktemp -d "${TMPDIR:-/tmp}/hmm4j-chromium.XXXXXX")
trap 'rm -rf "$profile"' EXIT
rm -f "$out_abs"

# --no-sandbox: CI and containers run as root, where Chromium's sandbox cannot start.
flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --no-default-browser-check
  --user-data-dir="$profile" --hide-scrollbars --force-device-scale-factor=1 --window-size="$width,$height")
timeout 120 "$browser" "${flags[@]}" --screenshot="$out_abs" "file://$abs" \
  >"$profile/browser.log" 2>&1 || true

if [ -n "${HMM4J_DOM_OUT:-}" ]; then
  timeout 120 "$browser" "${flags[@]}" --virtual-time-budget=5000 --dump-dom "file://$abs" \
    >"$HMM4J_DOM_OUT" 2>>"$profile/browser.log" || true
  if [ ! -s "$HMM4J_DOM_OUT" ]; then
    echo "screenshot-report: $browser wrote no DOM; its log:" >&2
    tail -n 20 "$profile/browser.log" >&2
    exit 1
  fi
fi

if [ ! -s "$out_abs" ]; then
  echo "screenshot-report: $browser wrote no screenshot; its log:" >&2
  tail -n 20 "$profile/browser.log" >&2
  exit 1
fi
echo "wrote $out_abs ($width x $height) with $browser"
