/* log — leveled diagnostics on stderr, thread-safe (one write(2) per line).
 * Human lines look like "hardline: warning: <message>"; the program name is set once at start-up.
 * Untrusted strings must be escaped with str_escape() before they are logged. */
#ifndef HARDLINE_LOG_H
#define HARDLINE_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3, LOG_OFF = 4 };

/* Sets the program name used as prefix (borrowed; must outlive logging) and the minimum level printed. */
void log_init(const char *prog, enum log_level min);
void log_set_level(enum log_level min);
enum log_level log_get_level(void);

/* Parses "debug", "info", "warn"/"warning", "error", "off"; returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* Writes one preformatted line (a newline is added) to stderr in one write, whatever the level; for structured
 * (JSON) log lines built by the caller. */
void log_line(const char *line);

#endif
