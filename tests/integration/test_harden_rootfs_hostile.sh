#!/usr/bin/env bash
# harden-rootfs end to end: hostile trees (symlinks out of DIR, /usr/bin -> /, symlinked parents, fifos, device nodes,
# newlines in names, unreadable dirs) must not change a byte outside DIR (canaries checked by sha256 and stat); a
# small synthetic rootfs is hardened and checked; --dry-run changes nothing; a second run has nothing to change; bad
# policies and options give exit 1 and 2; the static binary hardens a rootfs from inside it and deletes itself.
source "$(dirname "$0")/lib.sh"

[ -x "$HARDLINE" ] || { t_fail "build" "$HARDLINE is not built (make)"; t_done; exit 1; }

# The state of everything under a directory: path, mode, owner, size, link target, content digest.
snapshot() {
	(cd "$1" && find . -printf '%p %y %m %U %G %s %l\n' | LC_ALL=C sort
	 find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
listing() { (cd "$1" && find . -printf '%p %m %U %G %s\n' | LC_ALL=C sort); }
# step_status REPORT NAME: the step's status in a JSON report ("ok", "skipped", "failed" or "").
step_status() { jq -r --arg n "$2" '.steps[] | select(.name == $n) | .status' "$1" 2>/dev/null; }
# step_ran REPORT NAME: true when the step's status is "ok"; otherwise records the step's checks as skipped.
step_ran() { [ "$(step_status "$1" "$2")" = ok ] || { t_skip "$2 step" "not built"; return 1; }; }

# A small Debian-like rootfs at $1: usrmerged, several accounts, setuid files, a few executables, caches.
make_rootfs() {
	local r=$1 b
	mkdir -p "$r"/{etc/cron.d,usr/bin,usr/sbin,usr/lib,var/lib/dpkg,var/cache/apt/archives,var/tmp,tmp,root,home/bob,dev}
	ln -s usr/bin "$r/bin"; ln -s usr/sbin "$r/sbin"; ln -s usr/lib "$r/lib"
	cat >"$r/etc/passwd" <<-'EOF'
	root:x:0:0:root:/root:/bin/bash
	daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
	bin:x:2:2:bin:/bin:/usr/sbin/nologin
	games:x:5:60:games:/usr/games:/usr/sbin/nologin
	www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
	bob:x:1001:1001:Bob:/home/bob:/bin/bash
	rootfoo:x:1002:1002::/home/rootfoo:/bin/sh
	EOF
	cat >"$r/etc/group" <<-'EOF'
	root:x:0:
	daemon:x:1:
	bin:x:2:
	games:x:60:
	www-data:x:33:
	bob:x:1001:
	rootfoo:x:1002:
	EOF
	cat >"$r/etc/shadow" <<-'EOF'
	root::19000:0:99999:7:::
	daemon:*:19000:0:99999:7:::
	bin:*:19000:0:99999:7:::
	games:*:19000:0:99999:7:::
	www-data:*:19000:0:99999:7:::
	bob:$6$salt$hash:19000:0:99999:7:::
	rootfoo:!:19000:0:99999:7:::
	EOF
	chmod 640 "$r/etc/shadow"
	printf 'root:*::\ndaemon:*::\nbob:!::\n' >"$r/etc/gshadow"
	cp "$r/etc/passwd" "$r/etc/passwd-"
	printf '* * * * * root true\n' >"$r/etc/cron.d/job"
	for b in sh bash ls cat curl wget apt-get dpkg su passwd chmod python3; do
		printf '\177ELF\002\001\001\000fake %s\n' "$b" >"$r/usr/bin/$b"; chmod 755 "$r/usr/bin/$b"
	done
	for b in nologin useradd; do
		printf '\177ELF\002\001\001\000fake %s\n' "$b" >"$r/usr/sbin/$b"; chmod 755 "$r/usr/sbin/$b"
	done
	printf '#!/bin/sh\necho app\n' >"$r/usr/bin/app-helper"; chmod 755 "$r/usr/bin/app-helper"
	chmod 4755 "$r/usr/bin/su" "$r/usr/bin/passwd"; chmod 2755 "$r/usr/bin/wget"
	printf 'lib\n' >"$r/usr/lib/libx.so"; chmod 4644 "$r/usr/lib/libx.so"
	printf 'Package: bash\nStatus: install ok installed\n' >"$r/var/lib/dpkg/status"
	printf 'deb' >"$r/var/cache/apt/archives/x.deb"
	printf 'ww' >"$r/etc/world-writable"; chmod 666 "$r/etc/world-writable"
	chmod 777 "$r/tmp" "$r/var/tmp"; chmod 775 "$r/etc"
	printf 'history' >"$r/root/.bash_history"
	mkfifo "$r/tmp/fifo"
}

# ---------------------------------------------------------------------------------------------------------------
# 1. Hostile trees: canaries outside DIR.
t_tmpdir W
OUT=$W/outside; R=$W/root
mkdir -p "$OUT/etc" "$OUT/bin" "$OUT/tmp" "$OUT/cache" "$R/etc" "$R/usr" "$R/var/cache" "$R/dev" "$R/home"
printf 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n' >"$OUT/passwd"
printf 'root::19000::::::\nalice:$6$x:19000::::::\n' >"$OUT/shadow"
printf 'root:x:0:\nalice:x:1000:\n' >"$OUT/group"
cp "$OUT/passwd" "$OUT/etc/passwd"; cp "$OUT/group" "$OUT/etc/group"; cp "$OUT/shadow" "$OUT/etc/shadow"
for b in sh ls su; do printf '\177ELFcanary %s\n' "$b" >"$OUT/bin/$b"; chmod 4777 "$OUT/bin/$b"; done
chmod 0777 "$OUT/tmp"; chmod 0666 "$OUT/passwd"; printf 'x' >"$OUT/cache/pkg.deb"
ln -s "$OUT/passwd" "$R/etc/passwd"                 # absolute symlink out
ln -s "../../../../../../../../..$OUT/shadow" "$R/etc/shadow"   # relative, climbing out
ln -s "$OUT/group" "$R/etc/group"
ln -s / "$R/usr/bin"                                # /usr/bin -> /
ln -s "$OUT/bin" "$R/usr/sbin"                      # a bin dir symlinked outside
ln -s "$OUT/bin" "$R/bin"
ln -s "$OUT/tmp" "$R/tmp"                           # a sticky dir symlinked outside
ln -s "$OUT/cache" "$R/var/cache/apt"               # a cache symlinked outside
ln -s "$OUT" "$R/home/app"
mkdir -p "$R/lib"; ln -s "$OUT/passwd" "$R/lib/passwd-"
mkfifo "$R/etc/fifo" "$R/usr/pipe"
mkdir -p "$R/usr/local/bin"; ln "$OUT/bin/su" "$R/usr/local/bin/su"   # a hard link to a setuid file outside
ln "$OUT/passwd" "$R/lib/passwd.hl"
printf 'x' >"$R/etc/evil
name"; chmod 4755 "$R/etc/evil
name"
if [ "$(id -u)" -eq 0 ]; then mknod "$R/dev/null" c 1 3 && chmod 666 "$R/dev/null"; mknod "$R/dev/sda" b 8 0; fi
mkdir -p "$R/locked/inner"; printf 'x' >"$R/locked/inner/f"; chmod 000 "$R/locked"
# A second tree whose /etc is itself a symlink to the outside (a symlinked parent of every account file).
R2=$W/root2; mkdir -p "$R2/usr"; ln -s "$OUT/etc" "$R2/etc"; ln -s "$OUT/bin" "$R2/usr/bin"
ln -s "$OUT" "$R2/app"

before=$(snapshot "$OUT"); root_before=$(stat -c '%a %u %g' / /usr /usr/bin /etc /etc/passwd /tmp)
# The account files are links out of DIR: the users step refuses them, and a failed step refuses the whole run
# (nothing committed). The other steps are then exercised with the users step switched off, so that their
# commits run against the hostile tree too.
printf '{"steps": {"users": {"enabled": false}}}\n' >"$W/nousers.json"
"$HARDLINE" harden-rootfs "$R" >"$W/out0" 2>"$W/err0"; rc0=$?
"$HARDLINE" harden-rootfs --policy "$W/nousers.json" --report "$W/hostile.json" "$R" >"$W/out1" 2>"$W/err1"; rc1=$?
"$HARDLINE" harden-rootfs --report "$W/hostile2.json" "$R2" >"$W/out2" 2>"$W/err2"; rc2=$?
chmod 755 "$W"
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$HARDLINE" harden-rootfs --policy "$W/nousers.json" \
	    --dry-run "$R" >/dev/null 2>"$W/err3"; rc3=$?
fi
after=$(snapshot "$OUT"); root_after=$(stat -c '%a %u %g' / /usr /usr/bin /etc /etc/passwd /tmp)
if [ "$rc0" -eq 1 ] && grep -q 'step users failed: .*nothing was changed' "$W/err0"; then
	t_ok "hostile trees: account files linked out of DIR fail the users step, and the run (nothing changed)"
else t_fail "hostile trees: a failed users step fails the run" "rc $rc0: $(tail -3 "$W/err0")"; fi
if [ "$rc1" -le 1 ] && [ "$rc2" -le 1 ] && [ -s "$W/hostile.json" ]; then t_ok "hostile trees: runs end (rc $rc1, $rc2)"
else t_fail "hostile trees: runs end" "rc $rc1 $rc2: $(tail -3 "$W/err1" "$W/err2")"; fi
if [ "$before" = "$after" ]; then t_ok "hostile trees: every canary outside DIR is byte-, mode- and owner-identical"
else t_fail "hostile trees: canaries" "$(diff <(echo "$before") <(echo "$after") | head -10)"; fi
if [ "$root_before" = "$root_after" ]; then t_ok "hostile trees: the host's / /usr /etc /tmp are untouched"
else t_fail "hostile trees: host dirs" "$root_before -> $root_after"; fi
t_check "hostile trees: the symlinks inside DIR are still symlinks or gone, never followed" \
	bash -c "[ ! -e '$R/usr/bin' ] || [ -L '$R/usr/bin' ]"
t_check "hostile trees: the fifo and the newline name were handled" \
	bash -c "[ ! -e '$R/etc/evil
name' ] || [ \$(stat -c %a '$R/etc/evil
name') = 755 ]"
if [ -n "${rc3:-}" ]; then
	if [ "$rc3" -eq 0 ] && grep -q 'locked' "$W/err3"; then t_ok "non-root: an unreadable directory is reported, not fatal"
	else t_fail "non-root: unreadable directory" "rc $rc3: $(tail -3 "$W/err3")"; fi
else
	t_skip "non-root: unreadable directory" "needs root and setpriv"
fi
chmod 755 "$R/locked" 2>/dev/null

# A malformed /etc/passwd that hides a second uid-0 account: the users step cannot rewrite it safely, so the run
# fails and changes nothing, rather than pass for hardened with "bob" still root.
t_tmpdir M
mkdir -p "$M/etc" "$M/usr/bin"; printf '\177ELF sh\n' >"$M/usr/bin/sh"; chmod 4755 "$M/usr/bin/sh"
printf 'root:x:0:0:root:/root:/bin/sh\nbob:x:0:0::/:/bin/sh\nbad line\n' >"$M/etc/passwd"
mb=$(cat "$M/etc/passwd"; stat -c %a "$M/usr/bin/sh")
"$HARDLINE" harden-rootfs --quiet "$M" 2>"$M.err"; rcm=$?
ma=$(cat "$M/etc/passwd"; stat -c %a "$M/usr/bin/sh")
if [ "$rcm" -eq 1 ] && [ "$mb" = "$ma" ] && grep -q '/etc/passwd line 3' "$M.err"; then
	t_ok "malformed passwd: exit 1 naming the file and line, nothing changed"
else t_fail "malformed passwd: exit 1, nothing changed" "rc $rcm: $(cat "$M.err")"; fi
rm -f "$M.err"

# Mount points inside DIR (as a container runtime makes /proc, /dev, /etc/hosts): recorded, never descended, their
# changes skipped with a warning, not a failure. In a private mount namespace, so nothing leaks if the test dies.
M=$W/mroot; mkdir -p "$M/etc" "$M/var/cache/apt" "$M/usr/bin"; printf 'hosts\n' >"$OUT/hosts"; touch "$M/etc/hosts"
printf '{"steps": {"systemCruft": {"deletePaths": ["/etc/hosts", "/var/cache"]}}}\n' >"$W/mpolicy.json"
if [ "$(id -u)" -eq 0 ] && unshare -m --propagation private true 2>/dev/null; then
	unshare -m --propagation private bash -c '
		mount -t tmpfs none "$1/var/cache/apt" && printf x >"$1/var/cache/apt/inside" &&
		mount --bind "$2/hosts" "$1/etc/hosts" || exit 9
		"$3" harden-rootfs --policy "$4" "$1" >/dev/null 2>"$5"; rc=$?
		[ -e "$1/var/cache/apt/inside" ] || rc=8
		exit $rc' _ "$M" "$OUT" "$HARDLINE" "$W/mpolicy.json" "$W/merr"; rc=$?
	if [ "$rc" -eq 0 ] && grep -q 'mount point' "$W/merr" && [ "$(cat "$OUT/hosts")" = hosts ]; then
		t_ok "mount points inside DIR: left alone with a warning, the run succeeds"
	else
		t_fail "mount points inside DIR" "rc $rc: $(tail -5 "$W/merr" 2>/dev/null)"
	fi
else
	t_skip "mount points inside DIR" "needs root and unshare -m"
fi

# ---------------------------------------------------------------------------------------------------------------
# 2. A synthetic rootfs, hardened for real.
t_tmpdir S
F=$S/rootfs; make_rootfs "$F"
listing "$F" >"$S/l0"
"$HARDLINE" harden-rootfs --dry-run --report "$S/dry.json" "$F" >"$S/plan" 2>"$S/dryerr"; rc=$?
listing "$F" >"$S/l1"
t_check "dry run: exit 0" test "$rc" -eq 0
t_check "dry run: the tree is unchanged (find listing identical)" cmp -s "$S/l0" "$S/l1"
t_check "dry run: the plan is printed on stdout" grep -qE '^(delete|chmod|rewrite|chown|create) ' "$S/plan"
t_check "dry run: the report says dryRun" test "$(jq -r .dryRun "$S/dry.json")" = true

"$HARDLINE" harden-rootfs --keep python3 --report "$S/r1.json" "$F" >"$S/out" 2>"$S/err"; rc=$?
t_check "harden: exit 0" test "$rc" -eq 0
t_check "harden: human summary on stderr" grep -q 'changes made' "$S/err"
t_check "harden: JSON report with the policy digest" bash -c "jq -e '.policyDigest | startswith(\"sha256:\")' '$S/r1.json'"
t_check "harden: upgrade skipped (DIR is not /)" test "$(step_status "$S/r1.json" upgrade)" = skipped
if step_ran "$S/r1.json" users; then
	t_check "users: only root and appuser remain in passwd" \
		bash -c "[ \"\$(cut -d: -f1 '$F/etc/passwd' | sort | tr '\n' ' ')\" = 'appuser root ' ]"
	t_check "users: no password usable (root locked)" bash -c "! grep -qE '^root::' '$F/etc/shadow'"
	t_check "users: no backup files" test ! -e "$F/etc/passwd-"
	t_check "users: /app exists, owned by 1000" test "$(stat -c %u "$F/app" 2>/dev/null)" = 1000
fi
if step_ran "$S/r1.json" permissions; then
	t_check "permissions: no setuid/setgid file left" \
		bash -c "[ -z \"\$(find '$F' -xdev -type f -perm /6000)\" ]"
	t_check "permissions: /tmp and /var/tmp are 1777" \
		bash -c "[ \$(stat -c %a '$F/tmp') = 1777 ] && [ \$(stat -c %a '$F/var/tmp') = 1777 ]"
	t_check "permissions: no world-writable file" \
		bash -c "[ -z \"\$(find '$F' -xdev -type f -perm -0002)\" ]"
	t_check "permissions: /etc is 0755" test "$(stat -c %a "$F/etc")" = 755
fi
if step_ran "$S/r1.json" executables; then
	t_check "executables: shells and fetch tools are gone" \
		bash -c "[ ! -e '$F/usr/bin/sh' ] && [ ! -e '$F/usr/bin/bash' ] && [ ! -e '$F/usr/bin/curl' ]"
	t_check "executables: nologin and --keep python3 stay" \
		bash -c "[ -e '$F/usr/sbin/nologin' ] && [ -e '$F/usr/bin/python3' ]"
fi
if step_ran "$S/r1.json" package-manager; then
	t_check "package-manager: apt cache gone, dpkg status kept" \
		bash -c "[ ! -e '$F/var/cache/apt/archives/x.deb' ] && [ -e '$F/var/lib/dpkg/status' ]"
fi
if step_ran "$S/r1.json" system-cruft; then
	t_check "system-cruft: crontabs gone" test ! -e "$F/etc/cron.d/job"
fi
if jq -e '.facts' "$S/r1.json" >/dev/null 2>&1; then
	t_check "facts after: no shells, no setuid in the report" \
		bash -c "jq -e '.facts.shells.count == 0 and .facts.setuid.count == 0' '$S/r1.json'"
	t_check "facts after: summary line on stderr" grep -q '^facts after: ' "$S/err"
else
	t_skip "facts after" "facts not built"
fi
t_check "harden: no temporary files left" bash -c "[ -z \"\$(find '$F' -name '.hardline-tmp*')\" ]"

listing "$F" >"$S/l2"
"$HARDLINE" harden-rootfs --keep python3 --report "$S/r2.json" "$F" >"$S/out2" 2>"$S/err2"; rc=$?
listing "$F" >"$S/l3"
t_check "idempotent: second run exits 0" test "$rc" -eq 0
t_check "idempotent: second run says nothing to change" grep -q 'nothing to change' "$S/err2"
t_check "idempotent: second run reports 0 changes" test "$(jq -r .totalChanges "$S/r2.json")" = 0
t_check "idempotent: second run changes nothing on disk" cmp -s "$S/l2" "$S/l3"

# ---------------------------------------------------------------------------------------------------------------
# 3. Bad input: policy errors name the file and line (exit 1); usage errors exit 2.
printf '{\n  "steps": {\n    "users": {"uid": 1000,,}\n  }\n}\n' >"$S/bad1.json"
printf '{\n  "steps": {\n    "userz": {}\n  }\n}\n' >"$S/bad2.json"
"$HARDLINE" harden-rootfs --policy "$S/bad1.json" "$F" >/dev/null 2>"$S/e1"; rc=$?
t_check "bad policy (syntax): exit 1 naming file and line 3" \
	bash -c "[ $rc -eq 1 ] && grep -q '$S/bad1.json' '$S/e1' && grep -q 'line 3' '$S/e1'"
"$HARDLINE" harden-rootfs --policy "$S/bad2.json" "$F" >/dev/null 2>"$S/e2"; rc=$?
t_check "bad policy (unknown key): exit 1 naming file, line 3 and the key" \
	bash -c "[ $rc -eq 1 ] && grep -q 'line 3' '$S/e2' && grep -q userz '$S/e2'"
"$HARDLINE" harden-rootfs --no-such-option "$F" >/dev/null 2>"$S/e3"; rc=$?
t_check "unknown option: exit 2 with the reason and the synopsis" \
	bash -c "[ $rc -eq 2 ] && grep -q 'unknown option --no-such-option' '$S/e3' && grep -q '^usage: hardline harden-rootfs' '$S/e3'"
"$HARDLINE" harden-rootfs >/dev/null 2>&1; rc=$?
t_check "no directory: exit 2" test "$rc" -eq 2
"$HARDLINE" harden-rootfs "$S/does-not-exist" >/dev/null 2>"$S/e4"; rc=$?
t_check "missing directory: exit 1 naming it" bash -c "[ $rc -eq 1 ] && grep -q does-not-exist '$S/e4'"
if [ "$(id -u)" -eq 0 ] && unshare -m --propagation private true 2>/dev/null; then
	mkdir -p "$S/ro"
	unshare -m --propagation private bash -c '
		mount -t tmpfs none "$1" && mkdir -p "$1/usr/bin" && printf x >"$1/usr/bin/sh" &&
		mount -o remount,ro "$1" || exit 9
		"$2" harden-rootfs --report "$3" "$1" >/dev/null 2>"$4"' _ "$S/ro" "$HARDLINE" "$S/ro.json" "$S/e5"; rc=$?
	t_check "read-only tree: exit 1, the summary says not all applied, the report has the error" \
		bash -c "[ $rc -eq 1 ] && grep -q 'not all applied' '$S/e5' && grep -q 'Read-only file system' '$S/e5' &&
		    jq -e '.error | test(\"Read-only\")' '$S/ro.json'"
else
	t_skip "read-only tree" "needs root and unshare -m"
fi

# ---------------------------------------------------------------------------------------------------------------
# 4. The static binary, run from inside the rootfs as in a Containerfile: hardens and deletes itself.
if [ -x "$HARDLINE_STATIC" ]; then
	G=$S/rootfs2; make_rootfs "$G"
	cp "$HARDLINE_STATIC" "$G/hardline"
	"$G/hardline" harden-rootfs --report "$S/s1.json" "$G" >/dev/null 2>"$S/se"; rc=$?
	t_check "static: exit 0" test "$rc" -eq 0
	t_check "static: deleted itself" test ! -e "$G/hardline"
	t_check "static: self step recorded the delete" \
		bash -c "jq -e '.steps[] | select(.name == \"self\") | .paths[0].path == \"/hardline\"' '$S/s1.json'"
	if [ "$(step_status "$S/s1.json" permissions)" = ok ]; then
		t_check "static: no setuid/setgid file left" bash -c "[ -z \"\$(find '$G' -xdev -type f -perm /6000)\" ]"
	fi
	"$HARDLINE_STATIC" harden-rootfs --report "$S/s2.json" "$G" >/dev/null 2>"$S/se2"; rc=$?
	t_check "static: second run has nothing to change" \
		bash -c "[ $rc -eq 0 ] && [ \$(jq -r .totalChanges '$S/s2.json') = 0 ]"
else
	t_skip "static binary" "$HARDLINE_STATIC not built"
fi

# ---------------------------------------------------------------------------------------------------------------
# 5. In-build mode for real: a debootstrap'ed Debian imported into podman, `RUN ["/hardline", "harden-rootfs", "/"]`
#    as the last build step with no network (the upgrade fails and is reported, the run goes on), then the image
#    runs read-only as uid 1000 and has no shell, no hardener, no setuid file left.
DEB=$HL_CACHE/debian-minbase-bookworm
[ -n "${HL_QUICK:-}" ] && { t_done; exit $?; }
if [ ! -x "$HARDLINE_STATIC" ] || ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
	t_skip "in-build mode in a podman build" "needs build/hardline-static, podman and runc"
	t_done; exit $?
fi
if [ ! -f "$DEB/var/lib/dpkg/status" ] && command -v debootstrap >/dev/null; then
	mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
	mkdir -p "$HL_CACHE"; tmpdeb=$(mktemp -d "$HL_CACHE/.debootstrap.XXXXXX")
	if timeout 600 debootstrap --variant=minbase bookworm "$tmpdeb" "${mirror:-http://deb.debian.org/debian}" \
	    >/dev/null 2>&1 && [ ! -e "$DEB" ]; then mv "$tmpdeb" "$DEB"; else rm -rf "$tmpdeb"; fi
fi
if [ ! -f "$DEB/var/lib/dpkg/status" ]; then
	t_skip "in-build mode in a podman build" "no Debian rootfs in $DEB (debootstrap failed)"
	t_done; exit $?
fi
t_tmpdir P
printf '[containers]\ndefault_ulimits = []\npids_limit = 0\n[engine]\ncgroup_manager = "cgroupfs"\n' \
	>"$P/containers.conf"
PM=(env CONTAINERS_CONF="$P/containers.conf" podman --root "$P/storage" --runroot "$P/run" --runtime runc
	--storage-driver vfs)
pm() { "${PM[@]}" "$@"; }
mkdir -p "$P/ctx"; cp "$HARDLINE_STATIC" "$P/ctx/hardline"
printf '%s\n' 'FROM localhost/hl-deb:base' 'COPY hardline /hardline' \
	'RUN ["/hardline", "harden-rootfs", "--report", "/hardline-report.json", "/"]' >"$P/ctx/Containerfile"
if tar -C "$DEB" -c . | pm import -q - localhost/hl-deb:base >/dev/null 2>"$P/import.err" &&
    timeout 600 "${PM[@]}" build --network none -t localhost/hl-deb:hardened "$P/ctx" >"$P/build.out" 2>&1; then
	t_ok "in-build: podman build with harden-rootfs / as the last step succeeds"
	t_check "in-build: the upgrade ran and its failure (no network) is reported, not fatal" \
		grep -qE '^upgrade: .*FAILED: apt-get .*update exited' "$P/build.out"
	t_check "in-build: /proc, /sys, /dev are not descended and not warned about" \
		bash -c "! grep -q 'mount point' '$P/build.out'"
	t_check "in-build: the summary shows the facts after" grep -q '^facts after: .*shells 0' "$P/build.out"
	cid=$(pm create localhost/hl-deb:hardened /usr/sbin/nologin)
	pm export "$cid" >"$P/image.tar"
	pm rm "$cid" >/dev/null 2>&1
	tar -tf "$P/image.tar" >"$P/files"; tar -xf "$P/image.tar" -C "$P" hardline-report.json 2>/dev/null
	t_check "in-build: the hardener deleted itself" bash -c "! grep -qE '^(\./)?hardline$' '$P/files'"
	t_check "in-build: no setuid/setgid file in the image" \
		bash -c "[ -z \"\$(tar -tvf '$P/image.tar' | awk '\$1 ~ /^-.*[sS]/')\" ]"
	t_check "in-build: no shell, no apt-get, no su left" \
		bash -c "! grep -qE '^(\./)?usr/bin/(sh|bash|dash|apt-get|su)$' '$P/files'"
	t_check "in-build: the report records the self delete and the failed upgrade" \
		jq -e '(.steps[] | select(.name == "self") | .changes) == 1 and
		    (.steps[] | select(.name == "upgrade") | .status) == "failed"' "$P/hardline-report.json"
	out=$(pm run --rm --network none --read-only --user 1000:1000 localhost/hl-deb:hardened /usr/sbin/nologin 2>&1)
	if echo "$out" | grep -q 'not available'; then t_ok "in-build: the image runs read-only as uid 1000 (nologin answers)"
	else t_fail "in-build: the image runs read-only as uid 1000" "$out"; fi
	t_refute "in-build: the image has no shell to run" \
		pm run --rm --network none --user 1000:1000 localhost/hl-deb:hardened /bin/sh -c true
else
	t_fail "in-build: podman build" "$(tail -n 15 "$P/import.err" "$P/build.out")"
fi
t_done
