/* err — the one error type of hardline.
 * A fallible function returns 0 or a negative ERR_* code and fills the struct err passed last with a message that
 * says what failed, on which object, why, and what to do. Callers add context with err_prefix(). */
#ifndef HARDLINE_ERR_H
#define HARDLINE_ERR_H

#include <stddef.h>

enum {
	ERR_OK = 0,
	ERR_INTERNAL = -1,    /* a bug or an impossible state */
	ERR_NOMEM = -2,	      /* allocation failed */
	ERR_IO = -3,	      /* a system call on a file or socket failed */
	ERR_PARSE = -4,	      /* input is not well-formed */
	ERR_INVALID = -5,     /* well-formed input with a value we refuse */
	ERR_TOO_LARGE = -6,   /* input over a cap */
	ERR_NOT_FOUND = -7,   /* a named object does not exist */
	ERR_UNSUPPORTED = -8, /* valid but not handled (an algorithm, a media type) */
	ERR_VERIFY = -9,      /* a digest or signature does not match */
	ERR_TIMEOUT = -10,    /* a deadline passed */
	ERR_ESCAPE = -11,     /* a path or link leaves its root */
	ERR_EXISTS = -12,     /* the object is already there */
	ERR_USAGE = -13,      /* the command line is wrong (exit 2) */
	ERR_NETWORK = -14,    /* a remote peer failed or answered badly */
	ERR_DENIED = -15,     /* refused by policy or by a peer's authorization */
};

#define ERR_MSG_MAX 1024

struct err {
	int code;
	char msg[ERR_MSG_MAX];
};

/* Clears e (code 0, empty message). */
void err_clear(struct err *e);

/* Sets e to code and a printf-style message, replacing what was there; returns code so that callers can write
 * `return err_set(e, ERR_IO, "open %s: %s", path, strerror(errno));`. e may be NULL (the code is still returned). */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prepends "<context>: " to e's message, keeping its code; returns the code. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* err_set with ": <strerror(errnum)>" appended; returns ERR_IO (or ERR_NOMEM for ENOMEM). */
int err_errno(struct err *e, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A short stable name of a code ("io", "parse", ...), for logs and metrics. */
const char *err_name(int code);

#endif
