/* fsdir — the live-directory backend (see fsdir.h). The walk is one pass of fstatat(AT_SYMLINK_NOFOLLOW) over
 * directories opened O_DIRECTORY|O_NOFOLLOW; reads and commits reach a node's parent from the root fd component by
 * component with O_PATH|O_DIRECTORY|O_NOFOLLOW and then act on the last component relative to it, never through a
 * joined path string. */
#define _GNU_SOURCE /* O_PATH, AT_EMPTY_PATH */
#include "hardener/fsdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/str.h"

#define FSDIR_MAX_DEPTH 256 /* directory levels descended (each holds a fd while the walk is below it) */
#define FSDIR_MAX_PATH 4096
#define FSDIR_MAX_NOTES 1000

/* Node cookies (backend-private). */
enum { FSDIR_MOUNT = 1, FSDIR_NOT_DESCENDED = 2 };

struct fsdir {
	struct fs_backend base; /* first: the ops see a struct fs_backend * */
	int rootfd;
	dev_t dev;
	uint64_t mnt_id; /* the root's mount (statx), 0 when the kernel does not tell */
	json_t *notes;
	size_t nnotes;
	/* The last parent directory reached by open_parent (an O_PATH fd), reused for siblings. */
	char cache_path[FSDIR_MAX_PATH];
	int cache_fd;
	unsigned tmp_seq;
	/* Inode numbers of the indexed names of regular files with more than one link (sorted after the walk): a file
	 * whose link count exceeds its names here also has a name outside the root, whose mode and owner it shares. */
	ino_t *links;
	size_t nlinks, alinks;
};

/* A path for messages: escaped, truncated. */
static const char *esc(const char *p, char *buf, size_t size)
{
	return str_escape(buf, size, p, strlen(p), 200);
}

/* Records what the walk left out; logged as a warning, or at debug level when it is expected (lvl). */
static void note_at(struct fsdir *d, enum log_level lvl, const char *path, const char *reason)
{
	char pb[256];

	log_msg(lvl, "%s: %s", esc(path, pb, sizeof(pb)), reason);
	if (d->notes == NULL || ++d->nnotes > FSDIR_MAX_NOTES)
		return;
	json_array_append_new(d->notes, json_pack("{s:s, s:s}", "path", pb, "reason", reason));
}

/* A warning-level note_at. */
static void note(struct fsdir *d, const char *path, const char *reason)
{
	note_at(d, LOG_WARN, path, reason);
}

/* The index type of an st_mode (hard links are plain files in a live directory). */
static enum fs_type type_of(mode_t m)
{
	if (S_ISDIR(m))
		return FS_DIR;
	if (S_ISLNK(m))
		return FS_SYMLINK;
	if (S_ISCHR(m))
		return FS_CHR;
	if (S_ISBLK(m))
		return FS_BLK;
	if (S_ISFIFO(m))
		return FS_FIFO;
	if (S_ISSOCK(m))
		return FS_SOCK;
	return FS_REG;
}

/* Copies type, permission bits, owner, size, mtime and device numbers from st into n (path, link, head untouched). */
static void node_from_stat(struct fs_node *n, const struct stat *st)
{
	n->type = type_of(st->st_mode);
	n->mode = st->st_mode & 07777;
	n->uid = st->st_uid;
	n->gid = st->st_gid;
	n->size = (uint64_t)st->st_size;
	n->mtime = st->st_mtim.tv_sec;
	if (n->type == FS_CHR || n->type == FS_BLK) {
		n->dev_major = major(st->st_rdev);
		n->dev_minor = minor(st->st_rdev);
	}
}

/* fstatat(AT_SYMLINK_NOFOLLOW) that also returns the entry's mount id (statx STATX_MNT_ID, Linux 5.8), so that a
 * bind mount from the same filesystem (same st_dev) is still seen as a mount point; *mnt_id is 0 when unknown. */
static int stat_entry(int dfd, const char *name, struct stat *st, uint64_t *mnt_id)
{
	struct statx sx;

	*mnt_id = 0;
	if (statx(dfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS | STATX_MNT_ID, &sx) != 0) {
		if (errno != ENOSYS)
			return -1;
		return fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW);
	}
	memset(st, 0, sizeof(*st));
	st->st_mode = sx.stx_mode;
	st->st_uid = sx.stx_uid;
	st->st_gid = sx.stx_gid;
	st->st_size = (off_t)sx.stx_size;
	st->st_mtim.tv_sec = sx.stx_mtime.tv_sec;
	st->st_ino = sx.stx_ino;
	st->st_nlink = sx.stx_nlink;
	st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	st->st_rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
	if (sx.stx_mask & STATX_MNT_ID)
		*mnt_id = sx.stx_mnt_id;
	return 0;
}

/* Fills n->head with the first bytes of the regular file name in dfd, read into buf (n->head then points at buf,
 * which fstree_put copies from), opened without following a symlink and without blocking (a fifo swapped in since
 * the fstatat would otherwise hang), and checked to be the file that was stat'ed. */
static void read_head(struct fsdir *d, int dfd, const char *name, const struct stat *st, struct fs_node *n,
    unsigned char (*buf)[FS_HEAD_LEN])
{
	struct stat fst;
	ssize_t got;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == EACCES)
			note(d, n->path, "unreadable file: its first bytes are unknown (executable kind not detected)");
		return;
	}
	if (fstat(fd, &fst) == 0 && S_ISREG(fst.st_mode) && fst.st_ino == st->st_ino && fst.st_dev == st->st_dev) {
		do
			got = pread(fd, *buf, sizeof(*buf), 0);
		while (got < 0 && errno == EINTR);
		n->head = *buf;
		n->head_len = got > 0 ? (uint32_t)got : 0;
	}
	close(fd);
}

/* Remembers one indexed name of a multiply-linked regular file. ERR_NOMEM. */
static int links_add(struct fsdir *d, ino_t ino, struct err *e)
{
	if (d->nlinks == d->alinks) {
		size_t na = d->alinks ? d->alinks * 2 : 64;
		ino_t *v = realloc(d->links, na * sizeof(*v));

		if (v == NULL)
			return err_set(e, ERR_NOMEM, "out of memory indexing hard links");
		d->links = v;
		d->alinks = na;
	}
	d->links[d->nlinks++] = ino;
	return 0;
}

/* qsort order of inode numbers. */
static int ino_cmp(const void *a, const void *b)
{
	ino_t x = *(const ino_t *)a, y = *(const ino_t *)b;

	return x < y ? -1 : x > y;
}

/* Whether the file in st has more links than the index has names for it: one is outside the root (or in a place
 * the walk did not enter). */
static bool linked_outside(const struct fsdir *d, const struct stat *st)
{
	size_t lo = 0, hi = d->nlinks, names = 0;

	if (st->st_nlink <= 1)
		return false;
	while (lo < hi) { /* first index with links[i] >= ino */
		size_t mid = lo + (hi - lo) / 2;

		if (d->links[mid] < st->st_ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < d->nlinks && d->links[lo] == st->st_ino; lo++)
		names++;
	return names < st->st_nlink;
}

/* Indexes the entries of the directory open as dfd (owned: closed here), whose path in the root is path[plen]. */
static int walk_dir(struct fsdir *d, struct fstree *t, int dfd, char *path, size_t plen, int depth, struct err *e)
{
	DIR *dp = fdopendir(dfd);
	struct dirent *de;
	int r = 0;

	if (dp == NULL) {
		close(dfd);
		return err_errno(e, errno, "fdopendir %.200s", path);
	}
	for (;;) {
		struct fs_node n;
		struct stat st;
		uint64_t mnt_id;
		size_t nlen, clen;
		char target[FSDIR_MAX_PATH];
		unsigned char headbuf[FS_HEAD_LEN];
		const char *name;

		errno = 0;
		if ((de = readdir(dp)) == NULL) {
			if (errno != 0)
				note(d, path, "directory read error: listing incomplete");
			break;
		}
		name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		nlen = strlen(name);
		clen = plen + (plen > 1 ? 1 : 0) + nlen;
		if (clen >= FSDIR_MAX_PATH) {
			note(d, path, "an entry's path is longer than 4095 bytes: not indexed");
			continue;
		}
		if (plen > 1)
			path[plen] = '/';
		memcpy(path + plen + (plen > 1 ? 1 : 0), name, nlen + 1);
		if (stat_entry(dirfd(dp), name, &st, &mnt_id) != 0) {
			if (errno != ENOENT)
				note(d, path, "cannot stat: not indexed");
			path[plen] = '\0';
			continue;
		}
		memset(&n, 0, sizeof(n));
		n.path = path;
		node_from_stat(&n, &st);
		if (n.type == FS_SYMLINK) {
			ssize_t k = readlinkat(dirfd(dp), name, target, sizeof(target) - 1);

			if (k < 0) {
				note(d, path, "cannot read the symlink: recorded with an empty target");
				k = 0;
			}
			target[k] = '\0';
			n.link = target;
		} else if (n.type == FS_REG && st.st_size > 0) {
			read_head(d, dirfd(dp), name, &st, &n, &headbuf);
		}
		if (st.st_dev != d->dev || (mnt_id != 0 && d->mnt_id != 0 && mnt_id != d->mnt_id)) {
			/* a directory or a file (/etc/hosts) mounted by the container runtime */
			n.cookie = FSDIR_MOUNT | (n.type == FS_DIR ? FSDIR_NOT_DESCENDED : 0);
			/* /proc, /sys, /dev in a container build: expected, not worth a warning */
			note_at(d, LOG_DEBUG, path, "mount point of another filesystem: recorded, not descended");
		} else if (n.type == FS_DIR && depth >= FSDIR_MAX_DEPTH) {
			n.cookie = FSDIR_NOT_DESCENDED;
			note(d, path, "more than 256 directory levels deep: not descended");
		}
		if ((r = fstree_put(t, &n, NULL, e)) != 0)
			break;
		if (n.type == FS_REG && st.st_nlink > 1 && (r = links_add(d, st.st_ino, e)) != 0)
			break;
		if (n.type == FS_DIR && n.cookie == 0) {
			int cfd = openat(dirfd(dp), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
			struct stat cst;

			if (cfd < 0) {
				int err = errno;
				struct fs_node *stored = fstree_get(t, path);

				stored->cookie = FSDIR_NOT_DESCENDED;
				note(d, path,
				    err == EACCES ? "unreadable directory: recorded, not descended"
						  : "cannot open the directory: recorded, not descended");
			} else if (fstat(cfd, &cst) != 0 || cst.st_ino != st.st_ino || cst.st_dev != st.st_dev) {
				close(cfd);
				note(d, path, "directory replaced while indexing: not descended");
			} else if ((r = walk_dir(d, t, cfd, path, clen, depth + 1, e)) != 0) {
				break;
			}
		}
		path[plen] = '\0';
	}
	path[plen] = '\0';
	closedir(dp);
	return r;
}

/* The directory holding path, as a fd borrowed from d (the root fd or the cached O_PATH fd): reached from the root
 * one component at a time, none of which may be a symlink. *leaf is the last component ("." for "/"). */
static int open_parent(struct fsdir *d, const char *path, const char **leaf, struct err *e)
{
	char parent[FSDIR_MAX_PATH], comp[NAME_MAX + 1];
	const char *slash = strrchr(path, '/'), *p;
	int fd;

	if (path[0] != '/' || slash == NULL)
		return err_set(e, ERR_INVALID, "%.200s: not an absolute path", path);
	if (path[1] == '\0') {
		*leaf = ".";
		return d->rootfd;
	}
	*leaf = slash + 1;
	if (slash == path)
		return d->rootfd;
	if ((size_t)(slash - path) >= sizeof(parent))
		return err_set(e, ERR_TOO_LARGE, "%.200s: path too long", path);
	memcpy(parent, path, (size_t)(slash - path));
	parent[slash - path] = '\0';
	if (d->cache_fd >= 0 && strcmp(d->cache_path, parent) == 0)
		return d->cache_fd;
	if (d->cache_fd >= 0)
		close(d->cache_fd);
	d->cache_fd = -1;
	fd = d->rootfd;
	for (p = parent + 1; *p != '\0';) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		int nfd;
		struct stat st;

		if (n == 0 || n > NAME_MAX) {
			if (fd != d->rootfd)
				close(fd);
			return err_set(e, ERR_INVALID, "%.200s: bad path component", path);
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd >= 0 && (fstat(nfd, &st) != 0 || !S_ISDIR(st.st_mode))) {
			close(nfd);
			nfd = -1;
			errno = ENOTDIR;
		}
		if (nfd < 0) {
			int err = errno;

			if (fd != d->rootfd)
				close(fd);
			if (err == ENOENT)
				return err_set(e, ERR_NOT_FOUND, "%.200s: %.*s does not exist", path,
				    (int)(p + n - parent), parent);
			if (err == ENOTDIR || err == ELOOP)
				return err_set(e, ERR_ESCAPE,
				    "%.200s: %.*s is a symlink or not a directory; not followed, "
				    "so nothing outside the root is touched",
				    path, (int)(p + n - parent), parent);
			return err_errno(e, err, "%.200s: open %.*s", path, (int)(p + n - parent), parent);
		}
		if (fd != d->rootfd)
			close(fd);
		fd = nfd;
		p += n;
		if (*p == '/')
			p++;
	}
	str_copy(d->cache_path, sizeof(d->cache_path), parent);
	d->cache_fd = fd;
	return fd;
}

/* Forgets the cached parent directory fd (after a directory was removed, and at the end of a commit). */
static void cache_drop(struct fsdir *d)
{
	if (d->cache_fd >= 0)
		close(d->cache_fd);
	d->cache_fd = -1;
	d->cache_path[0] = '\0';
}

/* ops.read: appends at most cap bytes of n's content to out, opened O_NOFOLLOW beneath the root; ERR_TOO_LARGE over
 * cap, ERR_ESCAPE when the path (or a parent) is now a symlink, ERR_INVALID when it is no regular file any more. */
static int fsdir_read(struct fs_backend *b, const struct fs_node *n, size_t cap, struct strbuf *out, struct err *e)
{
	struct fsdir *d = (struct fsdir *)b;
	const char *leaf;
	char buf[65536], pb[256];
	struct stat st;
	size_t total = 0;
	int pfd, fd, r;

	if ((pfd = open_parent(d, n->path, &leaf, e)) < 0)
		return pfd;
	if ((fd = openat(pfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
		if (errno == ELOOP)
			return err_set(e, ERR_ESCAPE, "%s: is now a symlink; not followed",
			    esc(n->path, pb, sizeof(pb)));
		return err_errno(e, errno, "read %s", esc(n->path, pb, sizeof(pb)));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = err_set(e, ERR_INVALID, "%s: not a regular file any more", esc(n->path, pb, sizeof(pb)));
		goto out;
	}
	for (;;) {
		ssize_t k = read(fd, buf, sizeof(buf));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = err_errno(e, errno, "read %s", esc(n->path, pb, sizeof(pb)));
			goto out;
		}
		if (k == 0)
			break;
		if ((size_t)k > cap - total) {
			r = err_set(e, ERR_TOO_LARGE, "%s is larger than %zu bytes", esc(n->path, pb, sizeof(pb)), cap);
			goto out;
		}
		total += (size_t)k;
		if ((r = sb_append(out, buf, (size_t)k)) != 0) {
			err_set(e, r, "%s: %s", esc(n->path, pb, sizeof(pb)),
			    r == ERR_TOO_LARGE ? "larger than the buffer allows" : "out of memory");
			goto out;
		}
	}
	r = 0;
out:
	close(fd);
	return r;
}

/* Writes leaf in pfd anew: n's new content, or (srcfd >= 0) a copy of srcfd's bytes; a new file in the same
 * directory, n's owner and mode set, synced, then renamed over the old name (which, if it became a symlink
 * meanwhile, is replaced, never followed; a hard link is broken, so that no other name shares the change). */
static int write_file(struct fsdir *d, int pfd, const char *leaf, const struct fs_node *n, int srcfd, struct err *e)
{
	char tmp[64], pb[256], buf[65536];
	off_t pos = 0;
	int fd = -1, r, tries;

	for (tries = 0;; tries++) {
		str_fmt(tmp, sizeof(tmp), ".hardline-tmp.%ld.%u", (long)getpid(), d->tmp_seq++);
		fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST || tries > 100)
			break;
	}
	if (fd < 0)
		return err_errno(e, errno, "%s: cannot create a temporary file beside it",
		    esc(n->path, pb, sizeof(pb)));
	if (srcfd < 0 && fileio_write_all(fd, n->content, n->content_len) != 0) {
		r = err_errno(e, errno, "%s: write", esc(n->path, pb, sizeof(pb)));
		goto fail;
	}
	while (srcfd >= 0) {
		ssize_t k = pread(srcfd, buf, sizeof(buf), pos);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = err_errno(e, errno, "%s: read to copy", esc(n->path, pb, sizeof(pb)));
			goto fail;
		}
		if (k == 0)
			break;
		if (fileio_write_all(fd, buf, (size_t)k) != 0) {
			r = err_errno(e, errno, "%s: write", esc(n->path, pb, sizeof(pb)));
			goto fail;
		}
		pos += k;
	}
	if (fchown(fd, n->uid, n->gid) != 0 && errno != EPERM) {
		r = err_errno(e, errno, "%s: chown", esc(n->path, pb, sizeof(pb)));
		goto fail;
	}
	if (fchmod(fd, n->mode & 07777) != 0 || fsync(fd) != 0) {
		r = err_errno(e, errno, "%s: chmod/fsync", esc(n->path, pb, sizeof(pb)));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = err_errno(e, errno, "%s: close", esc(n->path, pb, sizeof(pb)));
		goto fail;
	}
	fd = -1;
	if (renameat(pfd, tmp, pfd, leaf) != 0) {
		r = err_errno(e, errno, "%s: rename", esc(n->path, pb, sizeof(pb)));
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(pfd, tmp, 0);
	return r;
}

/* Whether the file type in st is what the index says n is. */
static bool same_type(const struct fs_node *n, const struct stat *st)
{
	return type_of(st->st_mode) == n->type;
}

/* Applies n's owner and mode to leaf in pfd. Regular files and directories are opened (O_NOFOLLOW, non-blocking)
 * and changed through the fd; special files through an O_PATH fd (chmod via /proc/self/fd, as Linux has no
 * lchmod); symlinks only get their owner (their mode means nothing on Linux). chown comes first because it clears
 * the setuid/setgid bits. A regular file that is hard-linked to a name outside the root is copied to a new inode
 * first (changing the shared inode would change the outside name too); a special file in that case is left alone. */
static int apply_attrs(struct fsdir *d, int pfd, const char *leaf, const struct fs_node *n, struct err *e)
{
	char pb[256], proc[64];
	struct stat st;
	int fd = -1, r, flags = O_NOFOLLOW | O_CLOEXEC;
	bool opath = false;

	if (n->type == FS_SYMLINK) {
		if ((n->changes & FS_CH_OWNER) && fchownat(pfd, leaf, n->uid, n->gid, AT_SYMLINK_NOFOLLOW) != 0)
			return err_errno(e, errno, "%s: chown of the symlink", esc(n->path, pb, sizeof(pb)));
		return 0;
	}
	if (n->type == FS_REG || n->type == FS_DIR) {
		fd =
		    openat(pfd, leaf, flags | O_RDONLY | O_NONBLOCK | O_NOCTTY | (n->type == FS_DIR ? O_DIRECTORY : 0));
		if (fd < 0 && errno != EACCES) {
			if (errno == ELOOP || errno == ENOTDIR)
				return err_set(e, ERR_ESCAPE, "%s: is now a symlink or changed type; not followed",
				    esc(n->path, pb, sizeof(pb)));
			return err_errno(e, errno, "%s: open", esc(n->path, pb, sizeof(pb)));
		}
	}
	if (fd < 0) {
		opath = true;
		if ((fd = openat(pfd, leaf, flags | O_PATH)) < 0)
			return err_errno(e, errno, "%s: open", esc(n->path, pb, sizeof(pb)));
	}
	if (fstat(fd, &st) != 0 || !same_type(n, &st)) {
		r = err_set(e, ERR_INVALID, "%s: changed type since it was indexed; left alone",
		    esc(n->path, pb, sizeof(pb)));
		goto out;
	}
	if (n->type != FS_DIR && linked_outside(d, &st)) {
		if (n->type == FS_REG && !opath)
			r = write_file(d, pfd, leaf, n, fd, e);
		else
			r = err_set(e, ERR_ESCAPE,
			    "%s: hard-linked to a name outside the root, which shares its mode and "
			    "owner; left alone",
			    esc(n->path, pb, sizeof(pb)));
		goto out;
	}
	if ((n->changes & FS_CH_OWNER) && fchownat(fd, "", n->uid, n->gid, AT_EMPTY_PATH) != 0) {
		r = err_errno(e, errno, "%s: chown %u:%u", esc(n->path, pb, sizeof(pb)), n->uid, n->gid);
		goto out;
	}
	if ((n->changes & (FS_CH_MODE | FS_CH_OWNER)) && (st.st_mode & 07777) != n->mode) {
		if (!opath) {
			r = fchmod(fd, n->mode & 07777);
		} else {
			str_fmt(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			r = chmod(proc, n->mode & 07777);
			if (r != 0 && errno == ENOENT)
				errno = ENOSYS; /* no /proc: no way to chmod this object without following links */
		}
		if (r != 0) {
			r = err_errno(e, errno, "%s: chmod %04o", esc(n->path, pb, sizeof(pb)), n->mode & 07777);
			goto out;
		}
	} else if ((n->changes & FS_CH_OWNER) && !opath && (n->mode & 06000) != 0 && fchmod(fd, n->mode & 07777) != 0) {
		r = err_errno(e, errno, "%s: chmod %04o", esc(n->path, pb, sizeof(pb)), n->mode & 07777);
		goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}

/* Removes leaf in pfd and, for a directory, what is under it that the index does not know (unreadable or new
 * entries); never crosses into another filesystem, never follows a symlink. */
static int remove_tree(struct fsdir *d, int pfd, const char *leaf, const char *path, int depth, struct err *e)
{
	struct stat st;
	struct dirent *de;
	DIR *dp;
	char pb[256];
	int fd, r = 0;

	if (unlinkat(pfd, leaf, AT_REMOVEDIR) == 0 || errno == ENOENT)
		return 0;
	if (errno != ENOTEMPTY && errno != EEXIST)
		return err_errno(e, errno, "%s: rmdir", esc(path, pb, sizeof(pb)));
	if (depth >= FSDIR_MAX_DEPTH)
		return err_set(e, ERR_TOO_LARGE, "%s: too deep to delete", esc(path, pb, sizeof(pb)));
	if ((fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		return err_errno(e, errno, "%s: open to delete its contents", esc(path, pb, sizeof(pb)));
	if (fstat(fd, &st) != 0 || st.st_dev != d->dev) {
		close(fd);
		return err_set(e, ERR_INVALID, "%s: holds another filesystem's mount point; not deleted",
		    esc(path, pb, sizeof(pb)));
	}
	if ((dp = fdopendir(fd)) == NULL) {
		close(fd);
		return err_errno(e, errno, "%s: fdopendir", esc(path, pb, sizeof(pb)));
	}
	while (r == 0 && (de = readdir(dp)) != NULL) {
		struct stat cst;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(dp), de->d_name, &cst, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(cst.st_mode))
			r = remove_tree(d, dirfd(dp), de->d_name, path, depth + 1, e);
		else if (unlinkat(dirfd(dp), de->d_name, 0) != 0 && errno != ENOENT)
			r = err_errno(e, errno, "%s: delete an entry inside", esc(path, pb, sizeof(pb)));
	}
	closedir(dp);
	if (r == 0 && unlinkat(pfd, leaf, AT_REMOVEDIR) != 0 && errno != ENOENT)
		r = err_errno(e, errno, "%s: rmdir", esc(path, pb, sizeof(pb)));
	return r;
}

/* Creates n (FS_CH_CREATE) as leaf in pfd: a directory (an existing directory is fine), a regular file with its
 * content, or a symlink. Owner and mode of directories and symlinks are applied by the caller. */
static int create_node(struct fsdir *d, int pfd, const char *leaf, const struct fs_node *n, struct err *e)
{
	char pb[256];
	struct stat st;

	switch (n->type) {
	case FS_DIR:
		if (mkdirat(pfd, leaf, 0700) != 0) {
			if (errno != EEXIST)
				return err_errno(e, errno, "%s: mkdir", esc(n->path, pb, sizeof(pb)));
			if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
				return err_set(e, ERR_EXISTS, "%s: exists and is not a directory",
				    esc(n->path, pb, sizeof(pb)));
		}
		return 0;
	case FS_REG:
		return write_file(d, pfd, leaf, n, -1, e);
	case FS_SYMLINK:
		if (symlinkat(n->link ? n->link : "", pfd, leaf) != 0)
			return err_errno(e, errno, "%s: symlink", esc(n->path, pb, sizeof(pb)));
		return 0;
	default:
		return err_set(e, ERR_UNSUPPORTED, "%s: creating this kind of file is not supported",
		    esc(n->path, pb, sizeof(pb)));
	}
}

/* Whether n is (or, for a directory, holds) a mount point of another filesystem: such objects are supplied by the
 * container runtime (/proc, /dev, /etc/hosts), are not part of the image, and cannot be changed or removed; their
 * changes are skipped with a warning rather than failing the run. v[i] is n in the sorted array. */
static bool skip_mount(struct fstree *t, struct fs_node *const *v, size_t i)
{
	const struct fs_node *n = v[i];
	size_t j, end = n->type == FS_DIR && (n->changes & FS_CH_DELETE) ? fstree_subtree_end(t, i) : i + 1;
	char pb[256];

	for (j = i; j < end; j++)
		if (v[j]->cookie & FSDIR_MOUNT) {
			log_warn(
			    "%s: %s of another filesystem (supplied by the container runtime, not part of the image); "
			    "left as it is",
			    esc(n->path, pb, sizeof(pb)), j == i ? "a mount point" : "holds a mount point");
			return true;
		}
	return false;
}

/* Records a failed change: the first message is kept in e, later ones are only logged and counted. */
static void failed(struct err *e, struct err *one, size_t *nfail)
{
	log_warn("%s", one->msg);
	if ((*nfail)++ == 0)
		*e = *one;
}

/* ops.commit: applies every mark in t, in an order that keeps each step valid: creations and rewrites (parents
 * first), owner and mode (children first), deletions (deepest first). A change that fails is logged and the others
 * still applied; the first failure is returned in e (with the count when there were more). */
static int fsdir_commit(struct fs_backend *b, struct fstree *t, struct err *e)
{
	struct fsdir *d = (struct fsdir *)b;
	struct fs_node *const *v;
	size_t nv, i, nfail = 0;
	struct err one;
	const char *leaf;
	int pfd;

	v = fstree_sorted(t, &nv);
	if (v == NULL && fstree_count(t) > 0)
		return err_set(e, ERR_NOMEM, "out of memory sorting the index");
	/* 1. creations, parents first; 2. content rewrites (owner and mode set on the new file). */
	for (i = 0; i < nv; i++) {
		struct fs_node *n = v[i];

		if (!(n->changes & (FS_CH_CREATE | FS_CH_CONTENT)) || (n->changes & FS_CH_DELETE) ||
		    skip_mount(t, v, i))
			continue;
		err_clear(&one);
		if ((pfd = open_parent(d, n->path, &leaf, &one)) < 0) {
			failed(e, &one, &nfail);
			continue;
		}
		if (n->changes & FS_CH_CREATE) {
			if (create_node(d, pfd, leaf, n, &one) != 0 ||
			    (n->type != FS_REG &&
				apply_attrs(d, pfd, leaf,
				    &(struct fs_node){ .path = n->path,
					.type = n->type,
					.mode = n->mode,
					.uid = n->uid,
					.gid = n->gid,
					.changes = FS_CH_MODE | FS_CH_OWNER },
				    &one) != 0))
				failed(e, &one, &nfail);
		} else if (n->type != FS_REG) {
			err_set(&one, ERR_INVALID, "%s: new content for something that is not a regular file", n->path);
			failed(e, &one, &nfail);
		} else if (write_file(d, pfd, leaf, n, -1, &one) != 0) {
			failed(e, &one, &nfail);
		}
	}
	/* 3. owner and mode, children before parents (a parent losing permissions last). */
	for (i = nv; i-- > 0;) {
		struct fs_node *n = v[i];

		if (!(n->changes & (FS_CH_MODE | FS_CH_OWNER)) ||
		    (n->changes & (FS_CH_DELETE | FS_CH_CREATE | FS_CH_CONTENT)) || skip_mount(t, v, i))
			continue;
		err_clear(&one);
		if ((pfd = open_parent(d, n->path, &leaf, &one)) < 0 || apply_attrs(d, pfd, leaf, n, &one) != 0)
			failed(e, &one, &nfail);
	}
	/* 4. deletions, deepest first. */
	for (i = nv; i-- > 0;) {
		struct fs_node *n = v[i];

		if (!(n->changes & FS_CH_DELETE) || (n->changes & FS_CH_CREATE))
			continue;
		err_clear(&one);
		if (strcmp(n->path, "/") == 0) {
			err_set(&one, ERR_INVALID, "/: the root itself is never deleted");
			failed(e, &one, &nfail);
			continue;
		}
		if (skip_mount(t, v, i))
			continue;
		if ((pfd = open_parent(d, n->path, &leaf, &one)) < 0) {
			if (one.code != ERR_NOT_FOUND) /* its parent is already gone: so is it */
				failed(e, &one, &nfail);
			continue;
		}
		if (n->type == FS_DIR) {
			if (strcmp(d->cache_path, n->path) == 0 ||
			    (str_has_prefix(d->cache_path, n->path) && d->cache_path[strlen(n->path)] == '/'))
				cache_drop(d);
			if (remove_tree(d, pfd, leaf, n->path, 0, &one) != 0)
				failed(e, &one, &nfail);
		} else if (unlinkat(pfd, leaf, 0) != 0 && errno != ENOENT) {
			char pb[256];

			err_errno(&one, errno, "%s: delete", esc(n->path, pb, sizeof(pb)));
			failed(e, &one, &nfail);
		}
	}
	cache_drop(d);
	if (nfail > 1)
		err_prefix(e, "%zu changes could not be applied (see the warnings above); the first", nfail);
	return nfail == 0 ? 0 : e->code;
}

/* ops.free: closes the fds and frees the backend; NULL is a no-op. */
static void fsdir_free(struct fs_backend *b)
{
	struct fsdir *d = (struct fsdir *)b;

	if (d == NULL)
		return;
	cache_drop(d);
	if (d->rootfd >= 0)
		close(d->rootfd);
	json_decref(d->notes);
	free(d->links);
	free(d);
}

static const struct fs_backend_ops fsdir_ops = {
	.name = "directory",
	.read = fsdir_read,
	.commit = fsdir_commit,
	.free = fsdir_free,
};

json_t *fsdir_walk_notes(const struct fs_backend *b)
{
	const struct fsdir *d = (const struct fsdir *)b;

	return json_deep_copy(d->notes);
}

int fsdir_open(const char *dir, struct fs_backend **out, struct fstree **tree, struct err *e)
{
	struct fsdir *d = NULL;
	struct fstree *t = NULL;
	struct fs_node root;
	struct stat st, rst;
	char path[FSDIR_MAX_PATH];
	int r, fd;

	*out = NULL;
	*tree = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory indexing %s", dir);
	d->base.ops = &fsdir_ops;
	d->rootfd = d->cache_fd = -1;
	if ((t = fstree_new()) == NULL || (d->notes = json_array()) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory indexing %s", dir);
		goto fail;
	}
	if ((d->rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			r = err_set(e, ERR_NOT_FOUND, "%s: no such directory", dir);
		else if (errno == ENOTDIR)
			r = err_set(e, ERR_INVALID, "%s: not a directory; give the root filesystem's directory", dir);
		else
			r = err_errno(e, errno, "open %s", dir);
		goto fail;
	}
	if (fstat(d->rootfd, &st) != 0) {
		r = err_errno(e, errno, "stat %s", dir);
		goto fail;
	}
	d->dev = st.st_dev;
	if (stat_entry(d->rootfd, ".", &rst, &d->mnt_id) != 0)
		d->mnt_id = 0;
	memset(&root, 0, sizeof(root));
	root.path = (char *)"/";
	node_from_stat(&root, &st);
	if ((r = fstree_put(t, &root, NULL, e)) != 0)
		goto fail;
	if ((fd = dup(d->rootfd)) < 0) {
		r = err_errno(e, errno, "dup");
		goto fail;
	}
	str_copy(path, sizeof(path), "/");
	if ((r = walk_dir(d, t, fd, path, 1, 1, e)) != 0) {
		err_prefix(e, "indexing %s", dir);
		goto fail;
	}
	if (d->nlinks > 1)
		qsort(d->links, d->nlinks, sizeof(*d->links), ino_cmp);
	*out = &d->base;
	*tree = t; /* transferred */
	return 0;
fail:
	fstree_free(t);
	fsdir_free(&d->base);
	return r;
}
