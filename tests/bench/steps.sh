#!/usr/bin/env bash
# The hardening steps and the facts on a synthetic 200k-entry index (build/bench/bench_steps): milliseconds each.
set -uo pipefail
B=${HARDLINE_BUILD:-build}/bench/bench_steps
if [ ! -x "$B" ]; then
	echo "steps: $B not built; run make bench"; exit 1
fi
"$B" "${BENCH_ENTRIES:-200000}" "${BENCH_RUNS:-5}"
