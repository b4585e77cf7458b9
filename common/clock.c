/* Clock strings: what the seed's client shows ("00:00:23"). */
#include "pc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *pc_clock(double seconds, char *buf, size_t n)
{
	if (!(seconds > 0))   /* also catches NaN */
		seconds = 0;
	if (seconds > 359999)  /* 99:59:59 keeps the field width */
		seconds = 359999;
	long s = (long)floor(seconds);
	snprintf(buf, n, "%02ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	return buf;
}

static int parse_field(const char **p, long *out)
{
	char *end;
	if (**p < '0' || **p > '9')
		return -1;
	*out = strtol(*p, &end, 10);
	if (*out > 1000000)
		return -1;
	*p = end;
	return 0;
}

double pc_parse_clock(const char *s)
{
	long fields[3];
	int nfields = 0;
	const char *p = s;
	if (!s || !*s)
		return -1;
	for (;;) {
		if (nfields == 3 || parse_field(&p, &fields[nfields]) < 0)
			return -1;
		nfields++;
		if (*p != ':')
			break;
		p++;
	}
	double frac = 0;
	if (*p == '.') {
		char *end;
		if (p[1] < '0' || p[1] > '9')
			return -1;
		frac = strtod(p, &end);
		p = end;
	}
	if (*p)
		return -1;
	double total = 0;
	for (int i = 0; i < nfields; i++) {
		if (i > 0 && fields[i] >= 60)
			return -1;
		total = total * 60 + fields[i];
	}
	return total + frac;
}
