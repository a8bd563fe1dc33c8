#!/usr/bin/env bash
# harden-rootfs against the article's shell steps (tests/bench/article-steps.sh) on the same Debian bookworm minbase
# root (the cached debootstrap tarball, ~120 MB, ~5,200 files), each run on a fresh copy extracted just before it
# (hyperfine --prepare). Prints both medians and the ratio; BENCH_RUNS sets the repetitions (default 5).
set -uo pipefail
HL_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${HARDLINE_BUILD:-$HL_ROOT/build}
HARDLINE=$BUILD/hardline
RUNS=${BENCH_RUNS:-5}

command -v hyperfine >/dev/null || { echo "harden_rootfs: hyperfine is not installed (make deps)"; exit 1; }
[ -x "$HARDLINE" ] || { echo "harden_rootfs: $HARDLINE not built (make)"; exit 1; }
tarball=$("$HL_ROOT/tests/fixtures/build-rootfs.sh" debian) || exit 1
work=$(mktemp -d /var/tmp/hardline-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
# A private copy: the shared tree's build/ may be relinked by someone else during the runs.
cp "$HARDLINE" "$work/hardline" && HARDLINE=$work/hardline

# Both commands get the same fresh root, extracted (modes, owners, device nodes) before each run.
prepare="rm -rf '$root' && mkdir '$root' && tar --numeric-owner -xpf '$tarball' -C '$root'"
sh -c "$prepare" || exit 1
files=$(find "$root" -xdev | wc -l)
size=$(du -sm "$root" | cut -f1)
echo "root: $tarball extracted ($files entries, $size MB); $RUNS runs each; load average $(cut -d' ' -f1-3 /proc/loadavg)"

hyperfine --style basic --runs "$RUNS" --prepare "$prepare" --export-json "$work/times.json" \
	-n "hardline harden-rootfs" "'$HARDLINE' harden-rootfs --quiet '$root'" \
	-n "article shell steps" "bash '$HL_ROOT/tests/bench/article-steps.sh' '$root'" || exit 1

# Wall-clock medians, and the mean CPU time (user + system, children included), which the machine's load
# disturbs less.
jq -r '.results[] | "\(.command)\t\(.median)\t\(.min)\t\(.max)\t\(.user + .system)"' "$work/times.json" |
	awk -F'\t' '{ printf "  %-24s median %8.3f s  (min %.3f, max %.3f)  CPU %.3f s\n", $1, $2, $3, $4, $5
		m[NR] = $2; c[NR] = $5 }
	END { if (m[1] > 0 && c[1] > 0)
		printf "  ratio article/hardline: %.1fx wall-clock (median), %.1fx CPU\n", m[2] / m[1], c[2] / c[1] }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
