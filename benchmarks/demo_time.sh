#!/usr/bin/env bash
# Time the README's main job after set-up: `edgeemo demo` on built-in defaults (no data).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
start=$(date +%s.%N)
.venv/bin/edgeemo demo --out "$out/demo"
end=$(date +%s.%N)
echo "edgeemo demo (no data): $(echo "$end - $start" | bc) s wall on $(nproc) cores"
rm -rf "$out"
