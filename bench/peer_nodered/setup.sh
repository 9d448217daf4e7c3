#!/usr/bin/env bash
# The peer of bench.peer: Node-RED with node-red-contrib-influxdb, installed with npm into
# .venv/nodered (beside the project's other tools, out of the source tree). Needs node and
# npm (Debian: apt install npm).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$root/.venv/nodered"
cd "$root/.venv/nodered"
if ! command -v npm >/dev/null; then
    echo "npm is missing: sudo apt install npm (Node.js 18 or later), then run this again" >&2
    exit 1
fi
npm install --no-audit --no-fund --loglevel=error node-red@4 node-red-contrib-influxdb@0.7
echo "installed Node-RED in $(pwd)/node_modules (python -m bench.peer finds it there)"
