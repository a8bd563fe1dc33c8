#!/usr/bin/env bash
# Builds the demo application (hello-app.c, static) into $BUILD/demo-app/hello-app when missing or older than its
# source, and prints the path. Used by tests/integration/test_harden_build.sh and tests/demo.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${HARDLINE_BUILD:-$(cd "$here/../.." && pwd)/build}
out=$build/demo-app/hello-app
if [ ! -x "$out" ] || [ "$here/hello-app.c" -nt "$out" ]; then
	mkdir -p "$build/demo-app"
	${CC:-cc} -static -O2 -Wall -Wextra -o "$out.tmp" "$here/hello-app.c"
	mv "$out.tmp" "$out"
fi
echo "$out"
