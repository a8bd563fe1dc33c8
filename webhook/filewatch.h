/* filewatch — notices that a file was replaced or rewritten, by polling stat(2) of the path it resolves to.
 * Kubernetes updates a mounted Secret or ConfigMap by swapping the "..data" symlink, so the watched path keeps its
 * name while the file behind it changes: device, inode, size, mtime or ctime differ. Not thread-safe: one poller. */
#ifndef HARDLINE_WEBHOOK_FILEWATCH_H
#define HARDLINE_WEBHOOK_FILEWATCH_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"

struct filewatch {
	char path[PATH_MAX];
	bool present; /* the last stat succeeded */
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};

/* Starts watching path (copied; ERR_TOO_LARGE when longer than PATH_MAX) and records what is there now, so that
 * only later changes are reported. A missing file is a state like any other. */
int filewatch_init(struct filewatch *fw, const char *path, struct err *e);

/* Stats the path again (following symlinks). Returns true when what it resolves to differs from the last call or
 * from filewatch_init, and records the new state either way. A file that disappears counts as a change. */
bool filewatch_changed(struct filewatch *fw);

#endif
