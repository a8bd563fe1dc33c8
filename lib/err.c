/* err — setting, prefixing and naming errors. Messages are truncated (never overflowed) at ERR_MSG_MAX. */
#include "lib/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

static int err_vset(struct err *e, int code, const char *fmt, va_list ap)
{
	if (e == NULL)
		return code;
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return code;
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, code, fmt, ap);
	va_end(ap);
	return code;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char out[ERR_MSG_MAX];
	size_t n, m;
	int k;
	va_list ap;

	if (e == NULL)
		return ERR_INTERNAL;
	va_start(ap, fmt);
	k = vsnprintf(out, sizeof(out) - 2, fmt, ap);
	va_end(ap);
	n = k < 0 ? 0 : (size_t)k > sizeof(out) - 3 ? sizeof(out) - 3 : (size_t)k;
	out[n++] = ':';
	out[n++] = ' ';
	m = strnlen(e->msg, sizeof(e->msg) - 1);
	if (m > sizeof(out) - 1 - n)
		m = sizeof(out) - 1 - n;
	memcpy(out + n, e->msg, m);
	out[n + m] = '\0';
	memcpy(e->msg, out, n + m + 1);
	return e->code;
}

int err_errno(struct err *e, int errnum, const char *fmt, ...)
{
	int code = errnum == ENOMEM ? ERR_NOMEM : ERR_IO;
	size_t n;
	va_list ap;

	if (e == NULL)
		return code;
	va_start(ap, fmt);
	err_vset(e, code, fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(errnum));
	return code;
}

const char *err_name(int code)
{
	switch (code) {
	case ERR_OK:
		return "ok";
	case ERR_NOMEM:
		return "nomem";
	case ERR_IO:
		return "io";
	case ERR_PARSE:
		return "parse";
	case ERR_INVALID:
		return "invalid";
	case ERR_TOO_LARGE:
		return "too_large";
	case ERR_NOT_FOUND:
		return "not_found";
	case ERR_UNSUPPORTED:
		return "unsupported";
	case ERR_VERIFY:
		return "verify";
	case ERR_TIMEOUT:
		return "timeout";
	case ERR_ESCAPE:
		return "escape";
	case ERR_EXISTS:
		return "exists";
	case ERR_USAGE:
		return "usage";
	case ERR_NETWORK:
		return "network";
	case ERR_DENIED:
		return "denied";
	default:
		return "internal";
	}
}
