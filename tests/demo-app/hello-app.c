/* hello-app: the demo application of the hardened images. It proves the image still does its one job: as a
 * non-root user, write a file into $DATA_DIR (default /data, a tmpfs in the demo), read it back, and say so.
 * Built static (cc -static -O2) so that it needs nothing from the image; exit 0 ok, 1 failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HELLO_MSG "hello from a hardened image\n"

/* write_all: writes LEN bytes of BUF to FD, retrying short writes. Returns 0, or -1 with errno set. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* hello_roundtrip: writes HELLO_MSG to DIR/hello.txt, reads it back and compares. Returns the byte count, or -1
 * after printing what failed on stderr. */
static long hello_roundtrip(const char *dir)
{
	char path[4096], back[sizeof(HELLO_MSG)];
	size_t len = strlen(HELLO_MSG);
	ssize_t got;
	long r = -1;
	int fd = -1;

	if (snprintf(path, sizeof(path), "%s/hello.txt", dir) >= (int)sizeof(path)) {
		fprintf(stderr, "hello-app: DATA_DIR is too long\n");
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write_all(fd, HELLO_MSG, len) != 0 || fsync(fd) != 0) {
		fprintf(stderr, "hello-app: cannot write %s: %s (mount a writable tmpfs there: --tmpfs %s)\n", path,
		    strerror(errno), dir);
		goto out;
	}
	close(fd);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || (got = read(fd, back, sizeof(back))) < 0) {
		fprintf(stderr, "hello-app: cannot read back %s: %s\n", path, strerror(errno));
		goto out;
	}
	if ((size_t)got != len || memcmp(back, HELLO_MSG, len) != 0) {
		fprintf(stderr, "hello-app: %s does not hold what was written (%zd bytes)\n", path, got);
		goto out;
	}
	r = (long)len;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int main(void)
{
	const char *dir = getenv("DATA_DIR");
	long n;

	if (dir == NULL || dir[0] == '\0')
		dir = "/data";
	if (geteuid() == 0) {
		fprintf(stderr, "hello-app: refusing to run as root; run as the app user (--user 1000)\n");
		return 1;
	}
	if ((n = hello_roundtrip(dir)) < 0)
		return 1;
	printf("hello-app: ok (uid=%u, wrote %ld bytes to %s)\n", (unsigned)geteuid(), n, dir);
	return 0;
}
