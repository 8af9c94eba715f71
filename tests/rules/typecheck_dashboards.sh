#!/usr/bin/env bash
# Type-checks dashboards/*.json against Grafana's published schema: @grafana/schema (dashboard
# model + each panel plugin's Options/FieldConfig) with the TypeScript compiler, strict, with
# excess-property checks (tests/rules/typecheck/types.ts). Dependencies are pinned in
# package-lock.json and installed with `npm ci` into tests/rules/typecheck/node_modules
# (git-ignored) when missing or older than the lock file.
set -euo pipefail
dir=$(cd "$(dirname "$0")/typecheck" && pwd)
cd "$dir"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "node/npm missing (apt-get install nodejs npm; see scripts/packages/rules.txt)" >&2
  exit 1
fi
stamp=node_modules/.xmppwatch-installed
if [ ! -e "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "installing @grafana/schema and typescript (npm ci)"
  timeout 300 npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
node gen.mjs
node_modules/.bin/tsc --version
node_modules/.bin/tsc -p .
echo "tsc: every dashboard satisfies ImportableDashboard (@grafana/schema $(node -p 'require("@grafana/schema/package.json").version'))"
