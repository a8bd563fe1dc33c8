#!/usr/bin/env bash
# Runs the unit tests (cmocka binaries in $BUILD/tests) and the integration tests (tests/integration/test_*.sh),
# counts their TAP lines ("ok ..." / "not ok ..."), and ends with the summary line "N passed, N failed, N skipped".
# Exit 0 only when nothing failed and every suite ran to its end.
#   --only unit|integration   run one kind
#   --filter SUBSTRING        run the suites whose file name contains SUBSTRING
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
only=all filter=
while [ $# -gt 0 ]; do
	case "$1" in
	--only) only=$2; shift 2 ;;
	--filter) filter=$2; shift 2 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
case "$BUILD" in /*) export HARDLINE_BUILD=$BUILD ;; *) export HARDLINE_BUILD=$PWD/$BUILD ;; esac
logdir=$(mktemp -d /tmp/hardline-tests.XXXXXX)
passed=0 failed=0 skipped=0 broken=""

run_suite() {   # name, command...
	local name=$1; shift
	local log=$logdir/$name.log start end rc p f s
	start=$(date +%s)
	"$@" >"$log" 2>&1
	rc=$?
	end=$(date +%s)
	# cmocka's TAP writes a skipped test as "not ok N # SKIP": a skip, not a failure.
	p=$(grep -cE '^ok [0-9]* ?-? ?' "$log" | tr -d ' ')
	s=$(grep -cE '^ok .*# (SKIP|skip)' "$log" | tr -d ' ')
	ns=$(grep -cE '^not ok .*# (SKIP|skip)' "$log" | tr -d ' ')
	f=$(grep -cE '^not ok ' "$log" | tr -d ' ')
	p=$((p - s)); s=$((s + ns)); f=$((f - ns))
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# The suite died or failed outside a test case: count it as one failure.
		failed=$((failed + 1)); broken="$broken $name"
		echo "not ok - $name (exit $rc)"
	fi
	printf '%-40s %4d passed %3d failed %3d skipped  %3ds\n' "$name" "$p" "$f" "$s" $((end - start))
	if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
		grep -E '^not ok |^# ' "$log" | head -40 | sed 's/^/    /'
		tail -n 30 "$log" | sed 's/^/    | /'
	fi
}

if [ "$only" = all ] || [ "$only" = unit ]; then
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		n=$(basename "$t")
		[ -n "$filter" ] && [[ "$n" != *"$filter"* ]] && continue
		CMOCKA_MESSAGE_OUTPUT=TAP run_suite "$n" "$t"
	done
fi
if [ "$only" = all ] || [ "$only" = integration ]; then
	for t in tests/integration/test_*.sh; do
		[ -f "$t" ] || continue
		n=$(basename "$t" .sh)
		[ -n "$filter" ] && [[ "$n" != *"$filter"* ]] && continue
		run_suite "$n" bash "$t"
	done
fi
echo "logs: $logdir"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
