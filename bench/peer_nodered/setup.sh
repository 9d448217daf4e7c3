#!/usr/bin/env bash
# The peer of bench.peer: Node-RED with node-red-contrib-influxdb, installed with npm into
# this folder (node_modules/, not committed). Needs node and npm (Debian: apt install npm).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null; then
    echo "npm is missing: sudo apt install npm (Node.js 18 or later), then run this again" >&2
    exit 1
fi
npm install --no-audit --no-fund --loglevel=error node-red@4 node-red-contrib-influxdb@0.7
echo "installed: $(./node_modules/.bin/node-red --version 2>/dev/null | head -1 || true) in $(pwd)/node_modules"
