#!/usr/bin/env bash
# The fault tiers (chaos and end-to-end, the truth test among them) several times in a row,
# quiet and with a CPU hog taking a core, as a city's server is busy when something fails:
#   ./scripts/fault-tiers.sh [RUNS] [pytest args...]     (default: 3 runs each way)
# Needs what ./scripts/vigie.sh setup installs, and stress-ng (Debian) for the busy runs.
# Prints one line per run (passed, failed, wall time) and exits non-zero if any run failed.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
runs="${1:-3}"
shift || true
export PATH="$here/.venv/bin:$PATH"
if ! command -v stress-ng >/dev/null 2>&1; then
    echo "stress-ng is missing: sudo apt-get install -y stress-ng" >&2
    exit 2
fi
failed=0
for mode in quiet busy; do
    for n in $(seq 1 "$runs"); do
        hog=""
        if [ "$mode" = busy ]; then
            stress-ng --cpu 1 --timeout 3600s >/dev/null 2>&1 &
            hog=$!
        fi
        log="$(mktemp -t vigie-faults-XXXX.log)"
        start=$(date +%s)
        python -m pytest -m "chaos or e2e" -q -p no:cacheprovider "$@" >"$log" 2>&1
        code=$?
        took=$(( $(date +%s) - start ))
        [ -n "$hog" ] && kill "$hog" 2>/dev/null && wait "$hog" 2>/dev/null
        result=$(grep -E "^[0-9]+ (passed|failed)|passed|failed" "$log" | tail -1)
        line="$mode run $n: ${result:-no result} ($((took / 60)) min $((took % 60)) s; log $log)"
        echo "$line"
        [ "$code" -ne 0 ] && failed=$((failed + 1))
    done
done
echo "fault tiers: $((2 * runs - failed)) of $((2 * runs)) runs passed"
[ "$failed" -eq 0 ]
