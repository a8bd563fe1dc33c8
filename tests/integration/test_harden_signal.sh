#!/usr/bin/env bash
# hardline harden killed by SIGTERM or SIGHUP while it writes: it dies of the signal and leaves neither DST nor
# a DST.tmp-XXXXXX (lib/cleanup removes the writer's temporaries), for oci: and oci-archive: destinations.
# Input: the bench image ($HL_CACHE/bench-harden-image-v1, tag base) when cached, else a layout with one 256 MiB
# uncompressed layer cached under $HL_CACHE/harden-signal-v1.
source "$(dirname "$0")/lib.sh"

for tool in jq python3 sha256sum; do
	if ! command -v "$tool" >/dev/null; then
		t_skip "harden signal" "$tool is not installed"
		t_done
		exit 0
	fi
done
t_tmpdir W

SRC=
if [ -f "$HL_CACHE/bench-harden-image-v1/index.json" ] &&
	jq -e '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "base")' \
		"$HL_CACHE/bench-harden-image-v1/index.json" >/dev/null 2>&1; then
	SRC=oci:$HL_CACHE/bench-harden-image-v1:base
else
	L=$HL_CACHE/harden-signal-v1
	if [ ! -f "$L/index.json" ]; then
		rm -rf "$L.new" && mkdir -p "$L.new/blobs/sha256"
		python3 - "$L.new/layer.tar" <<'EOF'
import io, os, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    for d in ("etc", "data"):
        ti = tarfile.TarInfo(d); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; t.addfile(ti)
    ti = tarfile.TarInfo("etc/passwd"); body = b"root:x:0:0:root:/root:/sbin/nologin\n"
    ti.size = len(body); t.addfile(ti, io.BytesIO(body))
    for i in range(64):
        ti = tarfile.TarInfo("data/f%02d" % i); ti.size = 4 << 20
        t.addfile(ti, io.BytesIO(os.urandom(4 << 20)))
EOF
		ld=$(sha256sum "$L.new/layer.tar" | cut -d' ' -f1); ls=$(stat -c %s "$L.new/layer.tar")
		mv "$L.new/layer.tar" "$L.new/blobs/sha256/$ld"
		echo '{"imageLayoutVersion":"1.0.0"}' >"$L.new/oci-layout"
		printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
			"$ld" >"$L.new/c"
		cd=$(sha256sum "$L.new/c" | cut -d' ' -f1); cs=$(stat -c %s "$L.new/c")
		mv "$L.new/c" "$L.new/blobs/sha256/$cd"
		printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
			"$cd" "$cs" "$ld" "$ls" >"$L.new/m"
		md=$(sha256sum "$L.new/m" | cut -d' ' -f1); ms=$(stat -c %s "$L.new/m")
		mv "$L.new/m" "$L.new/blobs/sha256/$md"
		printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"base"}}]}' \
			"$md" "$ms" >"$L.new/index.json"
		rm -rf "$L" && mv "$L.new" "$L"
	fi
	SRC=oci:$L:base
fi

# interrupt NAME SIGNAL DST-PATH DST-REF: starts harden, waits until its temporary appears next to DST-PATH, sends
# SIGNAL and checks that harden died of it and left neither DST-PATH nor DST-PATH.tmp-*.
interrupt() {
	local name=$1 sig=$2 dst=$3 ref=$4 pid st seen=no
	"$HARDLINE" harden --quiet "$SRC" "$ref" >/dev/null 2>"$W/err-$name" &
	pid=$!
	t_bg "$pid"
	for _ in $(seq 200); do
		if compgen -G "$dst.tmp-*" >/dev/null; then seen=yes; break; fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	sleep 0.2
	kill -"$sig" "$pid" 2>/dev/null
	{ wait "$pid"; } 2>/dev/null; st=$?
	if [ "$seen" != yes ]; then
		t_fail "$name: harden was interrupted while writing" "no $dst.tmp-* appeared; exit $st: $(cat "$W/err-$name")"
		return
	fi
	if [ "$st" -eq $((128 + $(kill -l "$sig"))) ]; then t_ok "$name: harden died of SIG$sig"
	else t_fail "$name: harden died of SIG$sig" "exit status $st (finished before the signal?): $(cat "$W/err-$name")"; fi
	t_refute "$name: no $dst.tmp-* left" compgen -G "$dst.tmp-*"
	t_refute "$name: DST not created" test -e "$dst"
}

interrupt "oci" TERM "$W/out" "oci:$W/out:t"
interrupt "oci-archive" TERM "$W/out.tar" "oci-archive:$W/out.tar:t"
interrupt "SIGHUP" HUP "$W/hup" "oci:$W/hup:t"
t_check "left the work directory as it was" bash -c "[ -z \"\$(ls -A '$W' | grep -v '^err-')\" ]"

t_done
