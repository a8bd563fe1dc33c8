/* libFuzzer target for lib/tarlayer: the input is read as a layer stream (gzip, zstd or plain tar) under small caps,
 * every entry validated and its data read. Any answer is fine; a crash, leak, hang or an entry that escapes the root
 * (a path not absolute, or with a ".." component) is not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tarlayer.h"

struct mem {
	const uint8_t *p;
	size_t len, pos;
};

static ssize_t mem_src(void *arg, void *buf, size_t n, struct err *e)
{
	struct mem *m = arg;
	size_t k = m->len - m->pos < n ? m->len - m->pos : n;

	memcpy(buf, m->p + m->pos, k);
	m->pos += k;
	return (ssize_t)k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tarlayer_limits lim = { 16u << 20, 4096, 1024, 64u << 10 };
	struct mem m = { data, size, 0 };
	struct tarlayer_reader *r = NULL;
	const struct tarlayer_entry *ent;
	char buf[4096];
	struct err e;
	ssize_t k;

	if (tarlayer_reader_open("layer fuzz", mem_src, &m, &lim, &r, &e) != 0)
		return 0;
	while (tarlayer_next(r, &ent, &e) == 1) {
		if (ent->path[0] != '/' || strstr(ent->path, "/../") != NULL ||
		    (strlen(ent->path) >= 3 && strcmp(ent->path + strlen(ent->path) - 3, "/..") == 0))
			abort();
		if (ent->type == TL_HARDLINK && (ent->link == NULL || ent->link[0] != '/' || strstr(ent->link, "/../")))
			abort();
		while ((k = tarlayer_read_data(r, buf, sizeof(buf), &e)) > 0)
			;
		if (k < 0)
			break;
	}
	tarlayer_reader_free(r);
	return 0;
}
