/* cli — command-line helpers the hardline subcommands share (cli.h): getopt error messages, sizes with suffixes,
 * and the --policy/--keep policy every hardening command builds the same way. */
#include <stdio.h>
#include <string.h>

#include "hardener/cli.h"
#include "lib/str.h"

#ifndef HARDLINE_VERSION
#define HARDLINE_VERSION "0.1.0"
#endif

#include <getopt.h>

const char *cli_opt_error(int c, char **argv, char *msg, size_t size)
{
	if (c == ':')
		snprintf(msg, size, "option %.60s needs an argument", argv[optind - 1]);
	else
		snprintf(msg, size, "unknown option %.60s", argv[optind - 1]);
	return msg;
}

const char *cli_opt_refused(char **argv, char *msg, size_t size)
{
	snprintf(msg, size, "unknown option or missing value: \"%.100s\"", argv[optind - 1]);
	return msg;
}

int cli_parse_size(const char *s, uint64_t *out, struct err *e)
{
	char num[32];
	size_t len = strlen(s);
	uint64_t mult = 1, v;

	if (len == 0 || len >= sizeof(num))
		return err_set(e, ERR_USAGE, "size \"%.40s\" is not a number of bytes (e.g. 8G, 512M)", s);
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'K':
	case 'k':
		mult = 1ull << 10;
		break;
	case 'M':
	case 'm':
		mult = 1ull << 20;
		break;
	case 'G':
	case 'g':
		mult = 1ull << 30;
		break;
	case 'T':
	case 't':
		mult = 1ull << 40;
		break;
	default:
		break;
	}
	if (mult != 1)
		num[len - 1] = '\0';
	if (str_to_u64(num, 1, UINT64_MAX / mult, &v, "size", e) != 0)
		return err_set(e, ERR_USAGE, "size \"%.40s\" is not a number of bytes (e.g. 8G, 512M)", s);
	*out = v * mult;
	return 0;
}

int cli_policy_load(struct hpolicy *pol, const char *file, char *const *keep, size_t nkeep, struct err *e)
{
	size_t i;
	int r;

	if ((r = hpolicy_init_defaults(pol, e)) != 0)
		return r;
	if (file != NULL && (r = hpolicy_load_file(pol, file, e)) != 0)
		goto out;
	for (i = 0; i < nkeep; i++)
		if ((r = hpolicy_allow(pol, keep[i], e)) != 0)
			goto out;
	r = hpolicy_finalize(pol, e);
out:
	if (r != 0)
		hpolicy_cleanup(pol);
	return r;
}

void cli_report_run(struct report *rep, const char *mode, const struct hpolicy *pol, size_t entries)
{
	report_set(rep, "hardener", json_pack("{s:s, s:s}", "name", "hardline", "version", HARDLINE_VERSION));
	report_set(rep, "mode", json_string(mode));
	report_set(rep, "policyDigest", json_string(pol->digest));
	report_set(rep, "profile", json_string(pol->profile));
	report_set(rep, "policy", hpolicy_to_json(pol));
	report_set(rep, "entries", json_integer((json_int_t)entries));
}
