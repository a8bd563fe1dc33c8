#!/usr/bin/env bash
# hardline harden on real images: a busybox-static base made with `podman import`, an app layer from `podman build`,
# saved as oci-archive and docker-archive; the output is read by skopeo and umoci, pushed to and pulled from a real
# registry, and run read-only as uid 1000 by podman. Also reproducibility, squash, zstd and hostile inputs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ocifix.sh"

for tool in podman skopeo umoci jq python3 gcc; do
	if ! command -v "$tool" >/dev/null; then
		t_skip "harden image" "$tool is not installed"
		t_done
		exit 0
	fi
done
if [ ! -x /bin/busybox ] || ! /bin/busybox --list >/dev/null 2>&1; then
	t_skip "harden image" "busybox-static is not installed"
	t_done
	exit 0
fi

t_tmpdir W
cat >"$W/containers.conf" <<'EOF'
[containers]
default_ulimits = []
pids_limit = 0
[engine]
cgroup_manager = "cgroupfs"
EOF
export CONTAINERS_CONF=$W/containers.conf
P=(podman --root "$W/storage" --runroot "$W/run" --runtime runc --storage-driver vfs)

# --- the base: a busybox-static root filesystem with accounts, imported; the app: one podman build layer ---
R=$W/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/tmp" "$R/root" "$R/usr/bin" "$R/usr/sbin"
cp /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' \
	>"$R/etc/passwd"
printf 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n' >"$R/etc/group"
printf 'root::1:0:99999:7:::\ndaemon:*:1:0:99999:7:::\nnobody:*:1:0:99999:7:::\n' >"$R/etc/shadow"
chmod 1777 "$R/tmp"
mkdir -p "$W/ctx"
printf '#include <stdio.h>\nint main(void){puts("hello from app");return 0;}\n' >"$W/app.c"
gcc -static -O2 -o "$W/ctx/app" "$W/app.c"
cat >"$W/ctx/Containerfile" <<'EOF'
FROM localhost/hl-base:latest
RUN mkdir -p /app && chmod u+s /bin/busybox && echo welcome > /etc/motd && rm /etc/shadow
COPY app /app/app
CMD ["/app/app"]
EOF
if ! (tar -C "$R" -c . | "${P[@]}" import - hl-base:latest >/dev/null 2>&1 &&
	"${P[@]}" build --network none -t hl-app:latest "$W/ctx" >"$W/build.log" 2>&1 &&
	"${P[@]}" save --format oci-archive -o "$W/app-oci.tar" hl-app:latest >/dev/null 2>&1 &&
	"${P[@]}" save --format docker-archive -o "$W/app-docker.tar" hl-app:latest >/dev/null 2>&1); then
	t_fail "build the input images with podman" "$(tail -5 "$W/build.log" 2>/dev/null)"
	t_done
	exit 1
fi
t_ok "input images built with podman import + build, saved as oci-archive and docker-archive"

# --- harden from oci-archive into an OCI layout ---
if dig=$(SOURCE_DATE_EPOCH=1700000000 "$HARDLINE" harden --quiet --report "$W/report.json" \
	oci-archive:"$W/app-oci.tar" oci:"$W/out:hard" 2>"$W/err1"); then
	t_ok "harden oci-archive -> oci"
else
	t_fail "harden oci-archive -> oci" "$(cat "$W/err1")"
fi
t_check "stdout is only the manifest digest" grep -qxE 'sha256:[0-9a-f]{64}' <<<"$dig"
t_check "report written with the steps" jq -e '.steps | length > 0' "$W/report.json"
if skopeo inspect oci:"$W/out:hard" >"$W/inspect.json" 2>"$W/err"; then t_ok "skopeo inspect reads the output"
else t_fail "skopeo inspect reads the output" "$(cat "$W/err")"; fi
t_check "skopeo sees the same digest" jq -e --arg d "$dig" '.Digest == $d' "$W/inspect.json"
t_check "one layer added on top of the input's three" jq -e '.Layers | length == 4' "$W/inspect.json"
t_check "labels record version and policy digest" \
	jq -e '.Labels["dev.hardline.version"] and (.Labels["dev.hardline.policy.digest"] | startswith("sha256:"))' \
	"$W/inspect.json"
skopeo inspect --config oci:"$W/out:hard" >"$W/config.json" 2>/dev/null
t_check "config User is 1000:1000" jq -e '.config.User == "1000:1000"' "$W/config.json"
t_check "created from SOURCE_DATE_EPOCH" jq -e '.created == "2023-11-14T22:13:20Z"' "$W/config.json"
t_check "history: one non-empty entry per diff_id" jq -e \
	'([.history[] | select(.empty_layer != true)] | length) == (.rootfs.diff_ids | length)' "$W/config.json"
t_check "history names hardline and the policy" jq -e \
	'.history[-1].created_by | startswith("hardline harden (policy sha256:")' "$W/config.json"

# --- umoci unpacks it to the expected root filesystem ---
if umoci unpack --rootless --image "$W/out:hard" "$W/bundle" >"$W/err" 2>&1; then t_ok "umoci unpack"
else t_fail "umoci unpack" "$(tail -3 "$W/err")"; fi
F=$W/bundle/rootfs
t_refute "no /bin/sh" test -e "$F/bin/sh"
t_refute "no wget applet link" test -e "$F/bin/wget"
t_check "the app is there" test -x "$F/app/app"
t_check "passwd has exactly root and appuser" \
	bash -c "[ \"\$(cut -d: -f1 '$F/etc/passwd' | sort | tr '\n' ' ')\" = 'appuser root ' ]"
t_check "setuid bit cleared on busybox" bash -c "[ ! -u '$F/bin/busybox' ] || [ ! -e '$F/bin/busybox' ]"

# --- scan: the facts from the layers, before and after ---
if "$HARDLINE" scan --json oci-archive:"$W/app-oci.tar" >"$W/before.json" 2>"$W/err" &&
	"$HARDLINE" scan --json oci:"$W/out:hard" >"$W/after.json" 2>>"$W/err"; then
	t_ok "scan --json of the input and the output"
else t_fail "scan --json of the input and the output" "$(cat "$W/err")"; fi
t_check "scan: the input has shells and fetch tools" jq -e '.shells.count > 0 and .fetchTools.count > 0' "$W/before.json"
t_check "scan: the output has no package manager, no setuid, users root+appuser" \
	jq -e '.packageManagers.count == 0 and .setuid.count == 0 and ([.users.items[].name] | sort) == ["appuser","root"]' \
	"$W/after.json"
t_check "scan: the output has no /bin/sh or wget" jq -e \
	'[.executables.items[].path] | (index("/bin/sh") == null and index("/bin/wget") == null)' "$W/after.json"
t_check "scan --diff prints before and after" bash -c \
	"'$HARDLINE' scan --diff oci:'$W/out:hard' oci-archive:'$W/app-oci.tar' | grep -q '^after:'"
t_check "scan dir: of the unpacked output agrees on the users" bash -c \
	"[ \"\$('$HARDLINE' scan --json dir:'$F' | jq -c '[.users.items[].name]')\" = \"\$(jq -c '[.users.items[].name]' '$W/after.json')\" ]"

# --- reproducible: same input, policy and SOURCE_DATE_EPOCH give the same digest ---
dig2=$(SOURCE_DATE_EPOCH=1700000000 "$HARDLINE" harden --quiet oci-archive:"$W/app-oci.tar" oci:"$W/out2:hard" 2>&1)
t_check "two runs give the same manifest digest" test "$dig" = "$dig2"
t_check "and byte-identical blobs" diff -r "$W/out/blobs" "$W/out2/blobs"

# --- docker-archive input, squash, zstd ---
if d3=$("$HARDLINE" harden --quiet docker-archive:"$W/app-docker.tar" oci:"$W/out3:d" 2>"$W/err"); then
	t_ok "harden docker-archive -> oci"
else t_fail "harden docker-archive -> oci" "$(cat "$W/err")"; fi
if "$HARDLINE" harden --quiet --squash oci-archive:"$W/app-oci.tar" oci:"$W/sq:s" >/dev/null 2>"$W/err"; then
	t_ok "harden --squash"
else t_fail "harden --squash" "$(cat "$W/err")"; fi
t_check "squash: a single layer" bash -c "skopeo inspect oci:'$W/sq:s' | jq -e '.Layers | length == 1'"
umoci unpack --rootless --image "$W/sq:s" "$W/sqb" >/dev/null 2>&1
t_check "squash: app present, sh gone" bash -c "test -x '$W/sqb/rootfs/app/app' && ! test -e '$W/sqb/rootfs/bin/sh'"
t_check "squash: the removed applet names are really gone from the blobs" bash -c \
	"! for b in '$W'/sq/blobs/sha256/*; do tar -tzf \"\$b\" 2>/dev/null; done | grep -qx 'bin/wget'"
if "$HARDLINE" harden --quiet --compression zstd oci-archive:"$W/app-oci.tar" oci:"$W/zs:z" >/dev/null 2>"$W/err"; then
	t_ok "harden --compression zstd"
else t_fail "harden --compression zstd" "$(cat "$W/err")"; fi
t_check "zstd layer media type" bash -c \
	"skopeo inspect --raw oci:'$W/zs:z' | jq -e '.layers[-1].mediaType | endswith(\"tar+zstd\")'"

# --- a real registry: push and pull back ---
if command -v docker-registry >/dev/null; then
	port=$((20000 + RANDOM % 20000))
	mkdir -p "$W/regdata"
	cat >"$W/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $W/regdata
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
	docker-registry serve "$W/registry.yml" >"$W/registry.log" 2>&1 &
	t_bg $!
	for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.2; done
	t_check "skopeo copy to the registry" timeout 120 skopeo copy --dest-tls-verify=false \
		oci:"$W/out:hard" docker://127.0.0.1:$port/hl/app:hard
	t_check "and back" timeout 120 skopeo copy --src-tls-verify=false \
		docker://127.0.0.1:$port/hl/app:hard oci:"$W/pulled:hard"
	t_check "the pulled manifest has the same digest" bash -c \
		"[ \"\$(skopeo inspect oci:'$W/pulled:hard' | jq -r .Digest)\" = '$dig' ]"
else
	t_skip "registry round trip" "docker-registry is not installed"
fi

# --- podman runs the hardened image read-only as uid 1000 ---
if timeout 120 skopeo copy oci:"$W/out:hard" \
	"containers-storage:[vfs@$W/storage+$W/run]localhost/hl-hard:latest" >"$W/err" 2>&1; then
	t_ok "hardened image loaded into podman storage"
	out=$(timeout 60 "${P[@]}" run --rm --read-only --user 1000 --network none localhost/hl-hard:latest 2>&1)
	t_check "the app runs read-only as uid 1000" grep -q "hello from app" <<<"$out"
	t_refute "a removed tool cannot be run" timeout 60 "${P[@]}" run --rm --read-only --user 1000 \
		--network none localhost/hl-hard:latest /bin/sh -c true
	t_refute "no wget either" timeout 60 "${P[@]}" run --rm --read-only --user 1000 --network none \
		localhost/hl-hard:latest /bin/wget -q http://127.0.0.1/
else
	t_fail "hardened image loaded into podman storage" "$(tail -3 "$W/err")"
fi

# --- hostile inputs: exit 1, a clear message, DST not created ---
# mklayout DIR LAYER.tar: an OCI layout around one uncompressed layer.
mklayout() {
	local dir=$1 layer=$2 ld ls cd cs md ms
	mkdir -p "$dir/blobs/sha256"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
	ld=$(sha256sum "$layer" | cut -d' ' -f1); ls=$(stat -c %s "$layer")
	cp "$layer" "$dir/blobs/sha256/$ld"
	printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"test"}]}' \
		"$ld" >"$dir/config.json"
	cd=$(sha256sum "$dir/config.json" | cut -d' ' -f1); cs=$(stat -c %s "$dir/config.json")
	mv "$dir/config.json" "$dir/blobs/sha256/$cd"
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
		"$cd" "$cs" "$ld" "$ls" >"$dir/m.json"
	md=$(sha256sum "$dir/m.json" | cut -d' ' -f1); ms=$(stat -c %s "$dir/m.json")
	mv "$dir/m.json" "$dir/blobs/sha256/$md"
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"t"}}]}' \
		"$md" "$ms" >"$dir/index.json"
	echo "sha256:$ld"
}
# hostile NAME EXPECTED-MESSAGE SRC [OPTIONS]: harden must fail with exit 1, the message, and no DST.
hostile() {
	local name=$1 want=$2 src=$3 rc; shift 3
	"$HARDLINE" harden --quiet "$@" "$src" oci:"$W/hostile-out:x" >/dev/null 2>"$W/herr"; rc=$?
	if [ "$rc" -eq 1 ] && grep -q -- "$want" "$W/herr" && [ ! -e "$W/hostile-out" ]; then t_ok "hostile: $name"
	else t_fail "hostile: $name" "rc=$rc dst=$(ls -d "$W/hostile-out" 2>/dev/null) msg=$(cat "$W/herr")"; fi
}
python3 - "$W" <<'EOF'
import io, sys, tarfile
w = sys.argv[1]
def mk(path, entries):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            if kind == "dir":
                ti.type = tarfile.DIRTYPE; ti.mode = 0o755; t.addfile(ti)
            elif kind == "sym":
                ti.type = tarfile.SYMTYPE; ti.linkname = data; t.addfile(ti)
            else:
                ti.size = len(data); t.addfile(ti, io.BytesIO(data))
mk(w + "/escape.tar", [("etc", "dir", None), ("../../etc/evil", "file", b"x")])
mk(w + "/symesc.tar", [("etc", "sym", "/../../../"), ("etc/evil", "file", b"x")])
mk(w + "/bomb.tar", [("big", "file", b"\0" * (4 << 20))])
EOF
esc_digest=$(mklayout "$W/escape" "$W/escape.tar")
hostile "a ../ entry" "escape\|\.\." oci:"$W/escape:t"
grep -q "$esc_digest" "$W/herr" && t_ok "hostile: the message names the layer digest" ||
	t_fail "hostile: the message names the layer digest" "$(cat "$W/herr")"
mklayout "$W/symesc" "$W/symesc.tar" >/dev/null
hostile "an entry beneath a symlink" "beneath the symlink" oci:"$W/symesc:t"
mklayout "$W/bomb" "$W/bomb.tar" >/dev/null
hostile "a layer over --max-expanded" "decompression bomb" oci:"$W/bomb:t" --max-expanded 1M
cp -a "$W/out" "$W/corrupt"
blob=$(jq -r '.Layers[0]' "$W/inspect.json" | cut -d: -f2)
chmod u+w "$W/corrupt/blobs/sha256/$blob"
printf 'X' | dd of="$W/corrupt/blobs/sha256/$blob" bs=1 seek=1000 conv=notrunc 2>/dev/null
hostile "a layer that does not match its digest" "does not match\|corrupt\|digest" oci:"$W/corrupt:hard"
# a config whose rootfs.diff_ids[0] is not the uncompressed layer 0 (re-digested config -> manifest -> index)
cp -a "$W/out" "$W/baddiff"
chmod -R u+w "$W/baddiff"
bm=$(jq -r '.manifests[0].digest' "$W/baddiff/index.json")
bc=$(jq -r .config.digest "$W/baddiff/blobs/sha256/${bm#sha256:}")
good_id=$(jq -r '.rootfs.diff_ids[0]' "$W/baddiff/blobs/sha256/${bc#sha256:}")
bad_id=$(jq -r '.rootfs.diff_ids[1]' "$W/baddiff/blobs/sha256/${bc#sha256:}")
read -r nc ncs < <(jq -c --arg d "$bad_id" '.rootfs.diff_ids[0] = $d' "$W/baddiff/blobs/sha256/${bc#sha256:}" |
	tr -d '\n' | ocifix_blob "$W/baddiff")
read -r nm nms < <(jq -c --arg d "$nc" --argjson s "$ncs" '.config.digest = $d | .config.size = $s' \
	"$W/baddiff/blobs/sha256/${bm#sha256:}" | tr -d '\n' | ocifix_blob "$W/baddiff")
jq -c --arg d "$nm" --argjson s "$nms" '.manifests[0].digest = $d | .manifests[0].size = $s' \
	"$W/baddiff/index.json" >"$W/baddiff/index.new" && mv "$W/baddiff/index.new" "$W/baddiff/index.json"
want="uncompressed content is $good_id but the config's rootfs.diff_ids\[0\] says $bad_id; the image is corrupt"
hostile "a config with a wrong rootfs.diff_ids[0]" "$want" oci:"$W/baddiff:hard"
"$HARDLINE" scan oci:"$W/baddiff:hard" >/dev/null 2>"$W/serr"; rc=$?
if [ "$rc" -eq 1 ] && grep -q -- "$want" "$W/serr"; then t_ok "scan refuses a wrong rootfs.diff_ids[0]"
else t_fail "scan refuses a wrong rootfs.diff_ids[0]" "rc=$rc msg=$(cat "$W/serr")"; fi
t_refute "usage error exits 2, not 1" bash -c "'$HARDLINE' harden --compression xz a b; [ \$? -ne 2 ]"

t_done
