/* A content-addressed cache under $XDG_CACHE_HOME/playcall (default
 * ~/.cache/playcall): results worth keeping between runs (speech, cloud
 * detections).  Entries are written under a temporary name and renamed, so a
 * reader sees a whole entry or none. */
#ifndef PC_CACHE_H
#define PC_CACHE_H
#include <stddef.h>
#include <stdint.h>

struct buf;

/* SHA-256 (FIPS 180-4), by libcrypto.  Every init is ended by a final. */
struct sha256 {
	void *ctx;              /* EVP_MD_CTX * */
};
void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, unsigned char out[32]);
void sha256_hex(const void *data, size_t len, char out[65]);
int sha256_file(const char *path, char out[65]);   /* 0, or -1 with errno */

/* A key from parts: each part is length-prefixed before hashing, so
 * ("ab","c") and ("a","bc") differ.  The list ends with NULL. */
void cache_key(char out[65], ...) __attribute__((sentinel));

/* The entry's path: <root>/<kind>/<key[0..1]>/<key><ext>. The folder is made. */
int cache_path(const char *kind, const char *key, const char *ext, char *out, size_t n);
/* 1 and the path when the entry exists, 0 when not. */
int cache_lookup(const char *kind, const char *key, const char *ext, char *path, size_t n);
/* Store a copy of file src (hard link when possible), or bytes. 0 or -1. */
int cache_store_file(const char *kind, const char *key, const char *ext, const char *src);
int cache_store_data(const char *kind, const char *key, const char *ext, const void *data, size_t len);
/* Read an entry into b. 1 hit, 0 miss. */
int cache_load_data(const char *kind, const char *key, const char *ext, struct buf *b);
/* Copy (or link) a cached entry to dst, atomically. 0 or -1. */
int cache_copy_out(const char *cached, const char *dst);

#endif
