#!/usr/bin/env bash
# make bench: runs every tests/bench/*.sh in name order and prints what each measured. Figures are printed, never
# asserted: these machines are noisy, so each script reports medians and ratios measured side by side in one run.
set -uo pipefail
cd "$(dirname "$0")/../.."
export HARDLINE_BUILD=${HARDLINE_BUILD:-$PWD/${BUILD:-build}}
status=0
for b in tests/bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	[ -n "${BENCH:-}" ] && [[ "$(basename "$b")" != *"$BENCH"* ]] && continue
	echo "== $(basename "$b" .sh)"
	bash "$b" || { echo "bench $(basename "$b"): failed (exit $?)"; status=1; }
done
exit $status
