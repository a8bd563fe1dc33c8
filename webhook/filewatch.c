/* filewatch — polling stat(2) of a resolved path to notice replaced files (rotated certificates, edited policies).
 * Polling once a second is enough for files that change a few times a year and, unlike inotify, it sees through
 * symlink swaps without watching every directory on the way. */
#include <string.h>
#include <sys/stat.h>

#include "lib/err.h"
#include "lib/str.h"
#include "webhook/filewatch.h"

/* Fills the identity fields of fw from path; present = false when stat fails. */
static void filewatch_snapshot(const char *path, struct filewatch *fw)
{
	struct stat st;

	fw->present = false;
	fw->dev = fw->ino = fw->size = 0;
	fw->mtime_ns = fw->ctime_ns = 0;
	if (stat(path, &st) != 0)
		return;
	fw->present = true;
	fw->dev = (uint64_t)st.st_dev;
	fw->ino = (uint64_t)st.st_ino;
	fw->size = (uint64_t)st.st_size;
	fw->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	fw->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
}

int filewatch_init(struct filewatch *fw, const char *path, struct err *e)
{
	memset(fw, 0, sizeof(*fw));
	if (str_copy(fw->path, sizeof(fw->path), path) != 0)
		return err_set(e, ERR_TOO_LARGE, "watched file name is longer than %d bytes; use a shorter path",
		    PATH_MAX - 1);
	filewatch_snapshot(fw->path, fw);
	return 0;
}

bool filewatch_changed(struct filewatch *fw)
{
	struct filewatch now;

	memcpy(now.path, fw->path, sizeof(now.path));
	filewatch_snapshot(now.path, &now);
	if (now.present == fw->present && now.dev == fw->dev && now.ino == fw->ino && now.size == fw->size &&
	    now.mtime_ns == fw->mtime_ns && now.ctime_ns == fw->ctime_ns)
		return false;
	fw->present = now.present;
	fw->dev = now.dev;
	fw->ino = now.ino;
	fw->size = now.size;
	fw->mtime_ns = now.mtime_ns;
	fw->ctime_ns = now.ctime_ns;
	return true;
}
