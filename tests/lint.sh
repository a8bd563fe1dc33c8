#!/usr/bin/env bash
# make lint: the banned calls of STYLE.md, cppcheck (errors and warnings) and clang-format (the committed
# .clang-format): each a hard failure.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
srcs=$(git ls-files '*.c' '*.h')
if grep -nE '\b(atoi|atol|atoll|sprintf|vsprintf|strcpy|strcat|strtok|gets)\s*\(' $srcs; then
	echo "lint: banned calls above (STYLE.md: use lib/str.h helpers)"; status=1
fi
if command -v cppcheck >/dev/null; then
	if ! cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	    --suppress=missingIncludeSystem -I. $(git ls-files '*.c'); then
		echo "lint: cppcheck found problems"; status=1
	fi
else
	echo "lint: cppcheck not installed (make deps)"; status=1
fi
if command -v clang-format >/dev/null; then
	drift=$(for f in $srcs; do clang-format --style=file "$f" | diff -q - "$f" >/dev/null || echo "$f"; done)
	if [ -n "$drift" ]; then
		echo "lint: not formatted as .clang-format says (run: clang-format -i --style=file FILE):"
		echo "$drift" | sed 's/^/  /'
		status=1
	fi
else
	echo "lint: clang-format not installed (make deps)"; status=1
fi
[ $status -eq 0 ] && echo "lint: ok"
exit $status
