#!/usr/bin/env bash
# Attestation crypto: CPU microseconds per DSSE signature and verification of a ~8 KiB hardening Statement
# (build/bench/bench_verify), next to `openssl speed`, the floor of the same OpenSSL on this machine right now.
set -uo pipefail
B=${HARDLINE_BUILD:-build}/bench/bench_verify
if [ ! -x "$B" ]; then
	echo "attest: $B not built; run make bench"; exit 1
fi
"$B" "${BENCH_ITERS:-400}" || exit 1
if command -v openssl >/dev/null; then
	echo "openssl speed (same libcrypto, 1 s each), for reference:"
	openssl speed -seconds 1 ecdsap256 ed25519 2>/dev/null | grep -E '^ *(256|253) bits' | \
	    awk '{ printf "  %-28s sign %6.1f us  verify %6.1f us\n", $1" "$2" "$3" "$4, 1e6/$(NF-1), 1e6/$NF }'
fi
