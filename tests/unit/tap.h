/* A tiny TAP producer for the C unit tests (run by prove). */
#include <stdarg.h>
#ifndef TAP_H
#define TAP_H
#include <math.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
static void tap_ok(int pass, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	tap_n++;
	printf("%sok %d - ", pass ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s line %d\n", file, line);
	}
	fflush(stdout);
}

#define is_str(got, want, name)                                                          \
	do {                                                                             \
		const char *g_ = (got), *w_ = (want);                                    \
		int p_ = (g_ && w_) ? !strcmp(g_, w_) : g_ == w_;                       \
		ok(p_, "%s", name);                                                      \
		if (!p_)                                                                 \
			printf("#   got: '%s'\n#   expected: '%s'\n", g_ ? g_ : "(null)", \
			       w_ ? w_ : "(null)");                                      \
	} while (0)

#define is_num(got, want, tol, name)                                          \
	do {                                                                  \
		double g_ = (got), w_ = (want);                               \
		int p_ = fabs(g_ - w_) <= (tol);                              \
		ok(p_, "%s", name);                                           \
		if (!p_)                                                      \
			printf("#   got: %g\n#   expected: %g\n", g_, w_); \
	} while (0)

static int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
#endif
