/* The cache: content-addressed files under $XDG_CACHE_HOME/playcall, and
 * the SHA-256 that names them.  Entries appear whole or not at all (a
 * temporary name, then rename), so two runs sharing a cache never read half
 * an entry; the worst a race does is store the same entry twice. */
#define _GNU_SOURCE
#include "pc.h"
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

/* ---- SHA-256 ----
 * OpenSSL's libcrypto (already loaded with libcurl) uses the CPU's SHA
 * instructions: about 1.8 GB/s here against 0.2 GB/s for portable C, and
 * a detection waits for its video's hash before its first request. */

void sha256_init(struct sha256 *c)
{
	c->ctx = EVP_MD_CTX_new();
	if (!c->ctx || EVP_DigestInit_ex(c->ctx, EVP_sha256(), NULL) != 1)
		pc_die(PC_EXIT_FAIL, "SHA-256: libcrypto cannot start a digest");
}

void sha256_update(struct sha256 *c, const void *data, size_t len)
{
	if (len && EVP_DigestUpdate(c->ctx, data, len) != 1)
		pc_die(PC_EXIT_FAIL, "SHA-256: libcrypto digest failed");
}

void sha256_final(struct sha256 *c, unsigned char out[32])
{
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(c->ctx, out, &n) != 1 || n != 32)
		pc_die(PC_EXIT_FAIL, "SHA-256: libcrypto digest failed");
	EVP_MD_CTX_free(c->ctx);
	c->ctx = NULL;
}

static void to_hex(const unsigned char digest[32], char out[65])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[64] = '\0';
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	struct sha256 c;
	unsigned char digest[32];
	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, digest);
	to_hex(digest, out);
}

static void sha256_sink(void *ctx, const void *data, size_t len)
{
	sha256_update(ctx, data, len);
}

int sha256_file(const char *path, char out[65])
{
	struct sha256 c;
	unsigned char digest[32];
	sha256_init(&c);
	int rc = pc_read_file(path, sha256_sink, &c), saved = errno;
	sha256_final(&c, digest);   /* ends the digest either way */
	if (rc < 0) {
		errno = saved;
		return -1;
	}
	to_hex(digest, out);
	return 0;
}

void cache_key(char out[65], ...)
{
	struct sha256 c;
	sha256_init(&c);
	va_list ap;
	va_start(ap, out);
	const char *part;
	while ((part = va_arg(ap, const char *))) {
		/* 8-byte big-endian length first, so part boundaries count. */
		uint64_t len = strlen(part);
		unsigned char prefix[8];
		for (int i = 0; i < 8; i++)
			prefix[i] = (unsigned char)(len >> (56 - 8 * i));
		sha256_update(&c, prefix, sizeof prefix);
		sha256_update(&c, part, len);
	}
	va_end(ap);
	unsigned char digest[32];
	sha256_final(&c, digest);
	to_hex(digest, out);
}

/* ---- entries ---- */

/* <root>: $XDG_CACHE_HOME/playcall, else ~/.cache/playcall.  The XDG spec
 * says a relative XDG_CACHE_HOME is to be ignored. */
static int cache_root(char *out, size_t n)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int w;
	if (xdg && xdg[0] == '/')
		w = snprintf(out, n, "%s/playcall", xdg);
	else if (home && home[0] == '/')
		w = snprintf(out, n, "%s/.cache/playcall", home);
	else {
		errno = ENOENT;
		return -1;
	}
	if (w < 0 || (size_t)w >= n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* An extension: "" or ".ext" (a leading dot is added when missing), short
 * and plain so it cannot leave the folder. */
static int ext_valid(const char *ext)
{
	size_t n = strlen(ext);
	if (n > 16)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((ext[i] >= 'a' && ext[i] <= 'z') || (ext[i] >= '0' && ext[i] <= '9') || (ext[i] == '.' && i == 0)))
			return 0;
	return 1;
}

/* The entry's folder and full name; the folder is made when make_dir. */
static int entry_path(const char *kind, const char *key, const char *ext, char *out, size_t n, int make_dir)
{
	char root[PATH_MAX];
	/* kind and key become path components: the session id rules fit. */
	if (!sess_id_valid(kind) || !sess_id_valid(key) || strlen(key) < 2 || !ext_valid(ext)) {
		errno = EINVAL;
		return -1;
	}
	if (cache_root(root, sizeof root) < 0)
		return -1;
	const char *dot = ext[0] && ext[0] != '.' ? "." : "";
	int w = snprintf(out, n, "%s/%s/%.2s", root, kind, key);
	if (w < 0 || (size_t)w >= n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (make_dir && pc_mkdirs(out) < 0)
		return -1;
	size_t used = (size_t)w;
	w = snprintf(out + used, n - used, "/%s%s%s", key, dot, ext);
	if (w < 0 || (size_t)w >= n - used) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int cache_path(const char *kind, const char *key, const char *ext, char *out, size_t n)
{
	return entry_path(kind, key, ext, out, n, 1);
}

int cache_lookup(const char *kind, const char *key, const char *ext, char *path, size_t n)
{
	struct stat st;
	if (entry_path(kind, key, ext, path, n, 0) < 0)
		return 0;
	/* An empty entry is never a result: treat it as absent. */
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

static int copy_fd(int in, int out)
{
	char chunk[65536];
	for (;;) {
		ssize_t n = read(in, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		for (char *p = chunk; n > 0;) {
			ssize_t w = write(out, p, (size_t)n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			p += w;
			n -= w;
		}
	}
}

/* src to dst under a temporary name: a hard link when src and dst share a
 * file system (no bytes copied), else a copy. */
static int place_file(const char *src, const char *dst)
{
	char tmp[PATH_MAX];
	if (tmp_path(dst, tmp, sizeof tmp) < 0)
		return -1;
	if (link(src, tmp) == 0)
		return tmp_commit(tmp, dst);
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		int saved = errno;
		tmp_abort(tmp);
		errno = saved;
		return -1;
	}
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = out < 0 ? -1 : copy_fd(in, out);
	int saved = errno;
	close(in);
	if (out >= 0 && close(out) < 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	if (rc < 0) {
		tmp_abort(tmp);
		errno = saved;
		return -1;
	}
	return tmp_commit(tmp, dst);
}

int cache_store_file(const char *kind, const char *key, const char *ext, const char *src)
{
	char path[PATH_MAX];
	if (cache_path(kind, key, ext, path, sizeof path) < 0)
		return -1;
	return place_file(src, path);
}

int cache_store_data(const char *kind, const char *key, const char *ext, const void *data, size_t len)
{
	char path[PATH_MAX];
	if (cache_path(kind, key, ext, path, sizeof path) < 0)
		return -1;
	return atomic_write(path, data, len);
}

int cache_load_data(const char *kind, const char *key, const char *ext, struct buf *b)
{
	char path[PATH_MAX];
	if (!cache_lookup(kind, key, ext, path, sizeof path))
		return 0;
	/* A read error is a miss, not half an entry. */
	return buf_read_file(b, path) == 0;
}

int cache_copy_out(const char *cached, const char *dst)
{
	return place_file(cached, dst);
}
