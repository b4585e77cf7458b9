/* Configuration from the environment: NAME, or the file named by NAME_FILE
 * (how systemd credentials and docker secrets hand over keys). */
#define _GNU_SOURCE
#include "pc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CFG_FILE_MAX (64 * 1024)

int cfg_lookup(const char *name, char **out, char *err, size_t errlen)
{
	*out = NULL;
	const char *val = getenv(name);
	if (val && *val) {
		*out = pc_xstrdup(val);
		return 0;
	}
	char fname[256];
	snprintf(fname, sizeof fname, "%s_FILE", name);
	const char *path = getenv(fname);
	if (!path || !*path)
		return 0;
	FILE *fp = fopen(path, "r");
	if (!fp) {
		snprintf(err, errlen, "%s: %s: %s", fname, path, strerror(errno));
		return -1;
	}
	char *data = pc_xmalloc(CFG_FILE_MAX + 1);
	size_t n = fread(data, 1, CFG_FILE_MAX, fp);
	int bad = ferror(fp);
	fclose(fp);
	if (bad) {
		free(data);
		snprintf(err, errlen, "%s: %s: read error", fname, path);
		return -1;
	}
	while (n && (data[n - 1] == '\n' || data[n - 1] == '\r' || data[n - 1] == ' '))
		n--;
	data[n] = '\0';
	if (!n) {
		free(data);
		return 0;
	}
	*out = data;
	return 0;
}

char *cfg_get(const char *name)
{
	char *val, err[512];
	if (cfg_lookup(name, &val, err, sizeof err) < 0)
		pc_die(PC_EXIT_USAGE, "%s", err);
	return val;
}

void cfg_redact(char *s, size_t cap, const char *secret)
{
	size_t slen = secret ? strlen(secret) : 0;
	if (!s || slen < 4)
		return;
	char *p;
	while ((p = strstr(s, secret))) {
		size_t tail = strlen(p + slen);
		if ((size_t)(p - s) + 3 + tail >= cap)
			tail = cap - (size_t)(p - s) - 4;
		memmove(p + 3, p + slen, tail);
		memcpy(p, "***", 3);
		p[3 + tail] = '\0';
	}
}
