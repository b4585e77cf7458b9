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

/* ---- SHA-256, FIPS 180-4 ---- */

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void sha256_block(struct sha256 *c, const unsigned char *block)
{
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = load_be32(block + 4 * i);
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
	uint32_t e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + sha256_k[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = cc;
		cc = b;
		b = a;
		a = t1 + t2;
	}
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
	c->h[4] += e;
	c->h[5] += f;
	c->h[6] += g;
	c->h[7] += h;
}

void sha256_init(struct sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	memcpy(c->h, iv, sizeof iv);
	c->bytes = 0;
	c->fill = 0;
}

void sha256_update(struct sha256 *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	c->bytes += len;
	while (len) {
		size_t take = sizeof c->block - c->fill;
		if (take > len)
			take = len;
		memcpy(c->block + c->fill, p, take);
		c->fill += take;
		p += take;
		len -= take;
		if (c->fill == sizeof c->block) {
			sha256_block(c, c->block);
			c->fill = 0;
		}
	}
}

void sha256_final(struct sha256 *c, unsigned char out[32])
{
	uint64_t bits = c->bytes * 8;
	unsigned char pad[72] = {0x80};
	/* 0x80, zeros up to 56 mod 64, then the length in bits, big-endian. */
	size_t padlen = (c->fill < 56 ? 56 : 120) - c->fill;
	for (int i = 0; i < 8; i++)
		pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
	uint64_t bytes = c->bytes;
	sha256_update(c, pad, padlen + 8);
	c->bytes = bytes;
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
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

/* Every byte of the file at path, in pieces, to sink.  0, or -1 with errno. */
static int read_file(const char *path, void (*sink)(void *ctx, const void *data, size_t len), void *ctx)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char chunk[65536];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		sink(ctx, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}

static void sha256_sink(void *ctx, const void *data, size_t len)
{
	sha256_update(ctx, data, len);
}

int sha256_file(const char *path, char out[65])
{
	struct sha256 c;
	sha256_init(&c);
	if (read_file(path, sha256_sink, &c) < 0)
		return -1;
	unsigned char digest[32];
	sha256_final(&c, digest);
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

static void buf_sink(void *ctx, const void *data, size_t len)
{
	buf_append(ctx, data, len);
}

int cache_load_data(const char *kind, const char *key, const char *ext, struct buf *b)
{
	char path[PATH_MAX];
	if (!cache_lookup(kind, key, ext, path, sizeof path))
		return 0;
	size_t start = b->len;
	if (read_file(path, buf_sink, b) < 0) {
		/* A read error is a miss, not half an entry. */
		b->len = start;
		return 0;
	}
	return 1;
}

int cache_copy_out(const char *cached, const char *dst)
{
	return place_file(cached, dst);
}
