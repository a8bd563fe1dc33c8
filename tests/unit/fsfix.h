/* fsfix — building a struct fstree by hand in the unit tests: one node at a time, asserting that fstree_put took it.
 * Include it after <cmocka.h>. */
#ifndef HARDLINE_TEST_FSFIX_H
#define HARDLINE_TEST_FSFIX_H

#include <stdint.h>
#include <string.h>

#include "hardener/fstree.h"

/* Adds the node path (type, mode, link target or NULL; the strings are copied by fstree_put) to t and returns it
 * (borrowed from t). Fails the test when fstree_put refuses it. */
static inline struct fs_node *fsfix_put(struct fstree *t, const char *path, enum fs_type type, uint32_t mode,
    const char *link)
{
	struct fs_node n, *out;
	struct err e;

	memset(&n, 0, sizeof(n));
	n.path = (char *)path;
	n.type = type;
	n.mode = mode;
	n.link = (char *)link;
	assert_int_equal(fstree_put(t, &n, &out, &e), 0);
	return out;
}

#endif
