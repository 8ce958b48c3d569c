#!/usr/bin/env bash
# Runs `uet demo` (a rollback, a quarantine, a block), then checks its reports in a real browser:
# the HTML report rendered by headless Chromium to a PNG (offline, not blank, one Gantt lane per worker, one bar per
# attempt) and the Markdown report's Mermaid block parsed and drawn by mermaid. Needs: the CLI built, chromium, node.
#   CONFIGURATION=Release tests/report-render/check.sh        (default Debug; the PNG goes to tests/report-render/out/)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
configuration="${CONFIGURATION:-Debug}"
cli="$root/src/Uet.Cli/bin/$configuration/net10.0/Uet.Cli.dll"
out="${OUT_DIR:-$here/out}"

[ -f "$cli" ] || { echo "check.sh: $cli is missing; build first (dotnet build uet.slnx -c $configuration)" >&2; exit 2; }
command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1 || { echo "check.sh: chromium is missing (apt-get install chromium)" >&2; exit 2; }
command -v node >/dev/null 2>&1 || { echo "check.sh: node is missing" >&2; exit 2; }

# puppeteer-core never downloads a browser; the one from Debian is used.
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dotnet "$cli" demo --dir "$work/demo" > "$work/demo.log" 2>&1 || { cat "$work/demo.log"; echo "check.sh: uet demo failed" >&2; exit 1; }
grep -E '^(run r-demo|report:)' "$work/demo.log"

mkdir -p "$out"
node "$here/check.mjs" "$work/demo/.uet/reports/r-demo" "$out/demo-report.png"
cp "$work/demo/.uet/reports/r-demo/UET_EXECUTION_REPORT."* "$out/"
