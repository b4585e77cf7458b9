/* Unit tests for common/cache.c: SHA-256 against the FIPS 180-4 examples,
 * keys, and entries (store, look up, copy out, damaged entries). */
#define _GNU_SOURCE
#include "pc.h"
#include "cache.h"
#include "tap.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[64];

static void test_sha256_vectors(void)
{
	char hex[65];
	/* FIPS 180-4 / the NIST CSRC "Examples with intermediate values". */
	sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256: \"abc\"");
	sha256_hex("", 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256: empty message");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256_hex(two, strlen(two), hex);
	is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "sha256: 448-bit message (two blocks)");
	const char *long_msg = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
			       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	sha256_hex(long_msg, strlen(long_msg), hex);
	is_str(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1", "sha256: 896-bit message");

	/* One million "a", fed in uneven pieces: the streaming path. */
	struct sha256 c;
	unsigned char digest[32];
	char piece[1024];   /* steps run up to 1009 bytes */
	memset(piece, 'a', sizeof piece);
	sha256_init(&c);
	size_t left = 1000000, step = 1;
	while (left) {
		size_t n = step < left ? step : left;
		sha256_update(&c, piece, n);
		left -= n;
		step = step % 997 + 13;
	}
	sha256_final(&c, digest);
	char million[65];
	for (int i = 0; i < 32; i++)
		snprintf(million + 2 * i, 3, "%02x", digest[i]);
	is_str(million, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", "sha256: one million \"a\" in uneven pieces");
}

static void test_sha256_padding_edges(void)
{
	/* Lengths around the 56-byte padding boundary (checked with Python's hashlib). */
	static const struct {
		size_t n;
		const char *hex;
	} cases[] = {
		{55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
		{56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
		{63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
		{64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
		{119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
		{120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
	};
	char a[128], hex[65];
	memset(a, 'a', sizeof a);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sha256_hex(a, cases[i].n, hex);
		char name[64];
		snprintf(name, sizeof name, "sha256: %zu bytes (padding edge)", cases[i].n);
		is_str(hex, cases[i].hex, name);
	}

	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/abc", scratch);
	atomic_write(path, "abc", 3);
	ok(sha256_file(path, hex) == 0, "sha256_file: reads the file");
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256_file: same digest as the bytes");
	ok(sha256_file("/nonexistent/file", hex) < 0, "sha256_file: missing file is -1");
}

static void test_keys(void)
{
	char k1[65], k2[65], k3[65], k4[65];
	cache_key(k1, "espeak", "en", "ab", "c", NULL);
	cache_key(k2, "espeak", "en", "a", "bc", NULL);
	cache_key(k3, "espeak", "en", "ab", "c", NULL);
	cache_key(k4, "espeak", "en", "abc", NULL);
	ok(strcmp(k1, k2) != 0, "cache_key: (\"ab\",\"c\") and (\"a\",\"bc\") differ");
	ok(strcmp(k1, k4) != 0, "cache_key: two parts differ from their concatenation");
	is_str(k1, k3, "cache_key: same parts, same key");
	ok(strlen(k1) == 64 && strspn(k1, "0123456789abcdef") == 64, "cache_key: 64 hex digits");
}

static long link_count(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_nlink : -1;
}

static void test_entries(void)
{
	char root[256], path[PATH_MAX], want[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
	char key[65];
	snprintf(root, sizeof root, "%s/xdg", scratch);
	setenv("XDG_CACHE_HOME", root, 1);
	cache_key(key, "unit", "entry", NULL);

	ok(cache_lookup("speech", key, ".wav", path, sizeof path) == 0, "entry: miss before store");
	ok(cache_path("speech", key, ".wav", path, sizeof path) == 0, "entry: path");
	snprintf(want, sizeof want, "%s/playcall/speech/%.2s/%s.wav", root, key, key);
	is_str(path, want, "entry: <root>/playcall/<kind>/<key[0..1]>/<key><ext>");
	cache_path("speech", key, "wav", path, sizeof path);
	is_str(path, want, "entry: extension without its dot gets one");
	struct stat st;
	snprintf(want, sizeof want, "%s/playcall/speech/%.2s", root, key);
	ok(stat(want, &st) == 0 && S_ISDIR(st.st_mode), "entry: cache_path makes the folder");

	ok(cache_path("../x", key, ".wav", path, sizeof path) < 0, "entry: kind cannot leave the root");
	ok(cache_path("speech", "../../etc", ".wav", path, sizeof path) < 0, "entry: key cannot leave the root");
	ok(cache_path("speech", key, "/x", path, sizeof path) < 0, "entry: extension cannot hold a slash");

	snprintf(src, sizeof src, "%s/speech.wav", scratch);
	atomic_write(src, "RIFF-data", 9);
	ok(cache_store_file("speech", key, ".wav", src) == 0, "entry: store a file");
	ok(cache_lookup("speech", key, ".wav", path, sizeof path) == 1, "entry: hit after store");
	ok(link_count(src) == 2, "entry: stored as a hard link on the same file system");

	snprintf(dst, sizeof dst, "%s/out", scratch);
	pc_mkdirs(dst);
	snprintf(dst, sizeof dst, "%s/out/speech_3.wav", scratch);
	ok(cache_copy_out(path, dst) == 0, "entry: copy out");
	struct buf b = {0};
	int fd = open(dst, O_RDONLY);
	char got[32] = "";
	ssize_t n = fd >= 0 ? read(fd, got, sizeof got - 1) : -1;
	got[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	is_str(got, "RIFF-data", "entry: copied out whole");
	ok(cache_load_data("speech", key, ".wav", &b) == 1 && b.len == 9 && !memcmp(b.data, "RIFF-data", 9),
	   "entry: load the bytes");
	buf_free(&b);

	ok(cache_store_data("detect", key, ".json", "{\"a\":1}", 7) == 0, "entry: store bytes");
	ok(cache_load_data("detect", key, ".json", &b) == 1 && b.len == 7, "entry: bytes back");
	buf_free(&b);
	ok(cache_load_data("detect", key, ".other", &b) == 0 && b.len == 0, "entry: other extension misses");

	/* Across file systems (no hard link possible): a plain copy. */
	struct stat shm;
	if (stat("/dev/shm", &shm) == 0 && stat(scratch, &st) == 0 && shm.st_dev != st.st_dev &&
	    access("/dev/shm", W_OK) == 0) {
		snprintf(dst, sizeof dst, "/dev/shm/pc-cache-unit-%ld.wav", (long)getpid());
		cache_lookup("speech", key, ".wav", path, sizeof path);
		ok(cache_copy_out(path, dst) == 0 && link_count(dst) == 1, "entry: copied across file systems");
		fd = open(dst, O_RDONLY);
		n = fd >= 0 ? read(fd, got, sizeof got - 1) : -1;
		got[n > 0 ? n : 0] = '\0';
		if (fd >= 0)
			close(fd);
		is_str(got, "RIFF-data", "entry: the copy is whole");
		unlink(dst);
	} else {
		ok(1, "entry: copy across file systems # SKIP no second file system");
		ok(1, "entry: the copy is whole # SKIP no second file system");
	}

	/* An empty entry (a crash between create and write in some other
	 * writer) is a miss, not a result. */
	char empty_key[65];
	cache_key(empty_key, "unit", "empty", NULL);
	cache_path("speech", empty_key, ".wav", path, sizeof path);
	close(open(path, O_WRONLY | O_CREAT, 0644));
	ok(cache_lookup("speech", empty_key, ".wav", path, sizeof path) == 0, "entry: empty file is a miss");

	/* No temporary names left behind in the entry folder. */
	snprintf(want, sizeof want, "%s/playcall/speech/%.2s", root, key);
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q tmp", want);
	ok(system(cmd) != 0, "entry: no temporary files left");

	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", root, 1);
	cache_path("speech", key, ".wav", path, sizeof path);
	snprintf(want, sizeof want, "%s/.cache/playcall/speech/%.2s/%s.wav", root, key, key);
	is_str(path, want, "entry: without XDG_CACHE_HOME, ~/.cache/playcall");
	setenv("XDG_CACHE_HOME", "relative/dir", 1);
	cache_path("speech", key, ".wav", path, sizeof path);
	is_str(path, want, "entry: a relative XDG_CACHE_HOME is ignored (XDG spec)");
}

int main(void)
{
	snprintf(scratch, sizeof scratch, "/tmp/pc-cache-unit-XXXXXX");
	if (!mkdtemp(scratch))
		return 1;
	test_sha256_vectors();
	test_sha256_padding_edges();
	test_keys();
	test_entries();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}
