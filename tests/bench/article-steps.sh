#!/usr/bin/env bash
# The baseline of tests/bench/harden_rootfs.sh: the shell hardening steps of the article this project grew from
# (docs: /work/shared/reference/image-hardening.md §1.2-1.3), in our own words, applied to the root at ROOT. Like
# the original, it walks the tree with find and runs one process per file (`find ... -exec CMD {} \;`).
# The apt upgrade is left out (no network here; hardline skips it outside a build too).
#   article-steps.sh ROOT
set -u
R=${1:?usage: article-steps.sh ROOT}
sysdirs=("$R/bin" "$R/etc" "$R/lib" "$R/sbin" "$R/usr")
bindirs=("$R/bin" "$R/sbin" "$R/usr/bin" "$R/usr/sbin")

# The application user: appuser, uid/gid 1000, home /app, and a shadow field of "x" (not locked, no password).
mkdir -p "$R/app"
echo 'appuser:x:1000:1000::/app:/usr/sbin/nologin' >>"$R/etc/passwd"
echo 'appuser:x:1000:' >>"$R/etc/group"
echo 'appuser:x:19000:0:99999:7:::' >>"$R/etc/shadow"
chown 1000:1000 "$R/app"

# Accounts: only appuser and root stay, every other login shell becomes nologin, root's password is locked.
for f in passwd group shadow gshadow; do
	[ -f "$R/etc/$f" ] && sed -i -r '/^(appuser|root):/!d' "$R/etc/$f"
done
sed -i -r '/^appuser:/!s#:[^:]*$#:/usr/sbin/nologin#' "$R/etc/passwd"
sed -i -r 's/^root:[^:]*:/root:!:/' "$R/etc/shadow"

# Crontabs.
rm -rf "$R/var/spool/cron" "$R/etc/crontabs" "$R/etc/periodic" "$R/etc/cron."*

# Everything in the bin directories but the allowed names.
find "${bindirs[@]}" -xdev -mindepth 1 -maxdepth 1 ! -type d ! -name nologin -exec rm -f {} \;

# No world-writable file or directory, except /tmp and /var/tmp, which get the sticky bit back.
find "$R" -xdev \( -type f -o -type d \) -perm /0002 -exec chmod o-w {} \;
chmod 1777 "$R/tmp" "$R/var/tmp"

# The package manager, its configuration and caches (the article's "apt" pattern; the dpkg database goes too).
find "${sysdirs[@]}" "$R/var" -xdev -depth \( -name '*apt*' -o -name '*dpkg*' \) -exec rm -rf {} \;

# Backup files such as passwd-.
find "${sysdirs[@]}" -xdev -type f -name '*-' -exec rm -f {} \;

# System directories: root:root, 0755.
find "${sysdirs[@]}" -xdev -type d -exec chown root:root {} \; -exec chmod 0755 {} \;

# setuid and setgid files (GNU find wants /MODE; the article's +4000 no longer parses).
find "${sysdirs[@]}" -xdev -type f -perm /6000 -exec rm -f {} \;

# Programs that change permissions or read binaries, wherever they are.
find "${sysdirs[@]}" -xdev \( -name hexdump -o -name chgrp -o -name chmod -o -name chown -o -name ln \
	-o -name od -o -name strings -o -name su -o -name sudo \) -exec rm -rf {} \;

# Init scripts, kernel tunables, root's home, fstab.
rm -rf "$R/etc/init.d" "$R/lib/rc" "$R/etc/conf.d" "$R/etc/inittab" "$R/etc/runlevels" "$R/etc/rc.conf" \
	"$R/etc/sysctl"* "$R/etc/modprobe.d" "$R/etc/modules" "$R/etc/mdev.conf" "$R/etc/acpi" "$R/root" "$R/etc/fstab"

# Symlinks left dangling by the deletions above.
find "${sysdirs[@]}" -xdev -type l ! -exec test -e {} \; -exec rm -f {} \;
exit 0
