#!/usr/bin/env bash
# The attestation fetch round trip: `hardline verify` of an attestation pushed to a local docker-registry on
# 127.0.0.1 (resolve nothing: by digest; GET the manifest and config, GET sha256-<hex>.att, GET the envelope,
# verify), a whole process each time, median of N runs with hyperfine; next to the same verify from an oci: layout
# (no network) and `hardline --help` (process start), so the network share can be read off; wall-clock median and
# mean CPU (user + system) of the process. Printed, not asserted.
#   BENCH_RUNS=30  runs per command
set -uo pipefail
cd "$(dirname "$0")/../.."
RUNS=${BENCH_RUNS:-30}
for tool in hyperfine docker-registry skopeo umoci jq curl; do
	command -v "$tool" >/dev/null || { echo "attest_fetch: $tool missing (make deps)"; exit 0; }
done
# A release build (no sanitizers), whatever `make bench` was called with.
REL=build/release
relmake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s BUILD=$REL SAN= WERROR= $REL/hardline >/dev/null; }
if ! relmake 2>/dev/null || ldd "$REL/hardline" | grep -q libasan; then
	rm -rf "$REL"
	relmake || { echo "attest_fetch: release build failed"; exit 1; }
fi
H=$PWD/$REL/hardline
T=$(mktemp -d /tmp/hardline-bench.XXXXXX)
REG_PID=
cleanup() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || exit 1

# a small image: busybox and a passwd file
umoci init --layout img >/dev/null && umoci new --image img:t >/dev/null &&
	umoci unpack --rootless --image img:t b >/dev/null 2>&1 || { echo "attest_fetch: umoci failed"; exit 1; }
mkdir -p b/rootfs/bin b/rootfs/etc && cp "$(command -v busybox || echo /bin/busybox)" b/rootfs/bin/busybox
printf 'root:x:0:0:root:/root:/bin/sh\n' >b/rootfs/etc/passwd
umoci repack --image img:t b >/dev/null
"$H" keygen --out k >/dev/null 2>&1

port=$((20000 + RANDOM % 20000))
cat >registry.yml <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $T/regdata
http:
  addr: 127.0.0.1:$port
EOF
docker-registry serve registry.yml >registry.log 2>&1 &
REG_PID=$!
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.2; done
skopeo copy --dest-tls-verify=false oci:img:t "docker://127.0.0.1:$port/b/app:t" >/dev/null 2>&1
D=$(skopeo inspect oci:img:t | jq -r .Digest)
"$H" attest --key k.key --push "docker://127.0.0.1:$port/b/app@$D" >/dev/null || { echo "attest_fetch: push failed"; exit 1; }
"$H" attest --key k.key oci:img:t >/dev/null || exit 1
"$H" verify --key k.pub "docker://127.0.0.1:$port/b/app@$D" >/dev/null || { echo "attest_fetch: verify failed"; exit 1; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; $RUNS runs each"
hyperfine -N -w 3 -r "$RUNS" --export-json times.json \
	"$H verify --key k.pub docker://127.0.0.1:$port/b/app@$D" \
	"$H verify --key k.pub oci:img:t" \
	"$H --help" >/dev/null 2>&1 || { echo "attest_fetch: hyperfine failed"; exit 1; }
jq -r '.results[] | [.command, (.median * 1000), (.min * 1000), (.max * 1000), ((.user + .system) * 1000)] | @tsv' \
	times.json | sed "s#$H#hardline#; s#127.0.0.1:$port#REG#; s#@sha256:[0-9a-f]*#@sha256:…#" |
	awk -F'\t' '{ printf "  %-58s median %7.2f ms [%.2f–%.2f]  CPU %.2f ms\n", $1, $2, $3, $4, $5 }'
