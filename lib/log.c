/* log — leveled stderr logging; each line is assembled in a buffer and written with one write(2) so that lines
 * from concurrent threads never interleave. */
#include "lib/log.h"
#include "lib/fileio.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *log_prog = "hardline";
static volatile int log_min = LOG_INFO;

void log_init(const char *prog, enum log_level min)
{
	log_prog = prog;
	log_min = (int)min;
}

void log_set_level(enum log_level min)
{
	log_min = (int)min;
}

enum log_level log_get_level(void)
{
	return (enum log_level)log_min;
}

int log_level_parse(const char *s, enum log_level *out)
{
	static const struct {
		const char *name;
		enum log_level lvl;
	} names[] = {
		{ "debug", LOG_DEBUG },
		{ "info", LOG_INFO },
		{ "warn", LOG_WARN },
		{ "warning", LOG_WARN },
		{ "error", LOG_ERROR },
		{ "off", LOG_OFF },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].lvl;
			return 0;
		}
	}
	return -1;
}

/* Writes p[n] to stderr whole (EINTR retried); a failure is ignored, as there is nowhere left to report it. */
static void write_all(const char *p, size_t n)
{
	(void)fileio_write_all(STDERR_FILENO, p, n);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const tag[] = { "debug: ", "", "warning: ", "error: " };
	char line[4096];
	size_t n;
	int k;
	va_list ap;

	if ((int)lvl < log_min || lvl >= LOG_OFF)
		return;
	k = snprintf(line, sizeof(line), "%s: %s", log_prog, tag[lvl]);
	n = k < 0 ? 0 : (size_t)k >= sizeof(line) ? sizeof(line) - 1 : (size_t)k;
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	n = k < 0 ? n : n + (size_t)k >= sizeof(line) - 1 ? sizeof(line) - 2 : n + (size_t)k;
	line[n++] = '\n';
	write_all(line, n);
}

void log_line(const char *line)
{
	char buf[8192];
	size_t n = strlen(line);

	if (n < sizeof(buf)) {
		memcpy(buf, line, n);
		buf[n++] = '\n';
		write_all(buf, n);
		return;
	}
	write_all(line, n);
	write_all("\n", 1);
}
