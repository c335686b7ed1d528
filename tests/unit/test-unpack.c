/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "basic/digest.h"
#include "basic/fileio.h"
#include "image/tar.h"
#include "image/unpack.h"
#include "tar-builder.h"

static char top[64];    /* per-test temp dir: top/dest plus siblings */
static char dest[96];
static int dest_fd = -1;

static int setup(void **state)
{
        strcpy(top, "/tmp/berth-unpack-XXXXXX");
        assert_non_null(mkdtemp(top));
        snprintf(dest, sizeof(dest), "%s/dest", top);
        assert_int_equal(mkdir(dest, 0755), 0);
        dest_fd = open(dest, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(dest_fd >= 0);
        return 0;
}

static int teardown(void **state)
{
        close(dest_fd);
        dest_fd = -1;
        assert_int_equal(rm_rf_at(AT_FDCWD, top, NULL), 0);
        return 0;
}

static const char *P(const char *rel)
{
        static char buf[4][512];
        static int i;
        i = (i + 1) % 4;
        snprintf(buf[i], sizeof(buf[i]), "%s/%s", dest, rel);
        return buf[i];
}

/* Feeds buf in chunks (0: random sizes); returns 0 or the error message in *msg. */
static int unpack_into(int dfd, const void *buf, size_t len, enum layer_compression c, const struct unpack_opts *o,
                       size_t chunk, struct unpack_result *res, char **msg)
{
        struct layer_unpacker *u = NULL;
        struct berr *err = NULL;
        const unsigned char *p = buf;
        int r = layer_unpacker_new(dfd, c, o, &u, &err);

        for (size_t off = 0; r == 0 && off < len;) {
                size_t n = chunk ? chunk : (size_t)(rand() % 70000) + 1;
                n = MIN(n, len - off);
                r = layer_unpacker_write(u, p + off, n, &err);
                off += n;
        }
        if (r == 0)
                r = layer_unpacker_finish(u, res, &err);
        layer_unpacker_free(u);
        if (r < 0) {
                assert_non_null(err);
                if (msg)
                        *msg = strdup(err->msg);
        }
        berr_free(err);
        return r;
}

static void unpack_ok(struct tb *t, const struct unpack_opts *o)
{
        char *msg = NULL;
        struct unpack_result res;
        if (unpack_into(dest_fd, t->buf, t->len, LAYER_UNCOMPRESSED, o, t->len, &res, &msg) < 0)
                fail_msg("unpack failed: %s", msg);
}

static void unpack_fails(struct tb *t, const struct unpack_opts *o, const char *needle)
{
        char *msg = NULL;
        if (unpack_into(dest_fd, t->buf, t->len, LAYER_UNCOMPRESSED, o, t->len, NULL, &msg) == 0)
                fail_msg("unpack succeeded, expected an error with `%s`", needle);
        if (!strstr(msg, needle))
                fail_msg("error `%s` does not contain `%s`", msg, needle);
        free(msg);
}

static char *slurp(const char *path)
{
        char *buf = NULL;
        size_t len;
        if (read_file_at(AT_FDCWD, path, 1 << 20, &buf, &len, NULL) < 0)
                return NULL;
        return buf;
}

static bool exists(const char *path)
{
        struct stat st;
        return lstat(path, &st) == 0;
}

/* ---- tree listings ---- */

static char *listing;
static size_t listing_len;
static size_t listing_root;

static int list_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        char line[1024], target[512] = "";
        uint64_t h = 1469598103934665603ULL;
        int n;

        if (S_ISLNK(st->st_mode)) {
                ssize_t k = readlink(path, target, sizeof(target) - 1);
                target[k > 0 ? k : 0] = '\0';
        } else if (S_ISREG(st->st_mode)) {
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                unsigned char b[4096];
                ssize_t k;
                while (fd >= 0 && (k = read(fd, b, sizeof(b))) > 0)
                        for (ssize_t i = 0; i < k; i++)
                                h = (h ^ b[i]) * 1099511628211ULL;
                close(fd);
        }
        n = snprintf(line, sizeof(line), "%s %o %u:%u %lld %lld %s %llx %u:%u\n",
                     path[listing_root] ? path + listing_root : "/", st->st_mode, st->st_uid, st->st_gid,
                     S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size,
                     /* The root is created by the test, not by the layer. */
                     path[listing_root] ? (long long)st->st_mtime : 0LL, target,
                     (unsigned long long)h, major(st->st_rdev), minor(st->st_rdev));
        listing = realloc(listing, listing_len + (size_t)n + 1);
        memcpy(listing + listing_len, line, (size_t)n + 1);
        listing_len += (size_t)n;
        return 0;
}

static int cmp_lines(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted text listing of a tree: path, mode, owner, size, mtime, link, content hash, rdev. */
static char *tree_listing(const char *root)
{
        char *lines[20000], *out, *save = NULL;
        size_t n = 0, len = 0;

        listing = NULL;
        listing_len = 0;
        listing_root = strlen(root);
        assert_int_equal(nftw(root, list_one, 64, FTW_PHYS), 0);
        if (!listing)
                return strdup("");
        for (char *l = strtok_r(listing, "\n", &save); l && n < 20000; l = strtok_r(NULL, "\n", &save))
                lines[n++] = l;
        qsort(lines, n, sizeof(char *), cmp_lines);
        out = malloc(listing_len + 2);
        for (size_t i = 0; i < n; i++)
                len += (size_t)sprintf(out + len, "%s\n", lines[i]);
        out[len] = '\0';
        free(listing);
        return out;
}

/* ---- compression helpers independent of the library's compressor ---- */

static void gzip_member(struct tb *out, const void *buf, size_t len)
{
        z_stream z = {0};
        unsigned char o[65536];
        int r;

        assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
        z.next_in = (Bytef *)buf;
        z.avail_in = (uInt)len;
        do {
                z.next_out = o;
                z.avail_out = sizeof(o);
                r = deflate(&z, Z_FINISH);
                tb_put(out, o, sizeof(o) - z.avail_out);
        } while (r != Z_STREAM_END);
        deflateEnd(&z);
}

static void zstd_frame(struct tb *out, const void *buf, size_t len)
{
        size_t cap = ZSTD_compressBound(len), n;
        void *o = malloc(cap);
        n = ZSTD_compress(o, cap, buf, len, 3);
        assert_false(ZSTD_isError(n));
        tb_put(out, o, n);
        free(o);
}

/* A layer with some of everything, for the compression and chunking tests. */
static void sample_layer(struct tb *t)
{
        char big[200000];
        for (size_t i = 0; i < sizeof(big); i++)
                big[i] = (char)(i * 7 + i / 1000);
        tb_dir(t, "etc/", 0755);
        tb_file(t, "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644);
        tb_dir(t, "bin/", 0755);
        tb_header(t, "bin/big", '0', 0755, 0, 0, sizeof(big), 1600000000, NULL);
        tb_data(t, big, sizeof(big));
        tb_symlink(t, "bin/sh", "big");
        tb_hardlink(t, "bin/big2", "bin/big");
        tb_header(t, "fifo", '6', 0600, 0, 0, 0, 1, NULL);
        tb_end(t);
}

/* ---- tests ---- */

static void test_media_types(void **state)
{
        enum layer_compression c;
        struct berr *err = NULL;

        assert_int_equal(layer_compression_from_media_type("application/vnd.oci.image.layer.v1.tar+gzip", &c, NULL), 0);
        assert_int_equal(c, LAYER_GZIP);
        assert_int_equal(layer_compression_from_media_type("application/vnd.oci.image.layer.v1.tar+zstd", &c, NULL), 0);
        assert_int_equal(c, LAYER_ZSTD);
        assert_int_equal(layer_compression_from_media_type("application/vnd.oci.image.layer.v1.tar", &c, NULL), 0);
        assert_int_equal(c, LAYER_UNCOMPRESSED);
        assert_int_equal(
                layer_compression_from_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip", &c, NULL), 0);
        assert_int_equal(c, LAYER_GZIP);
        assert_true(layer_compression_from_media_type(
                            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", &c, &err) < 0);
        assert_non_null(strstr(err->msg, "non-distributable layer media type "
                                         "`application/vnd.docker.image.rootfs.foreign.diff.tar.gzip`"));
        berr_free(err);
        err = NULL;
        assert_true(layer_compression_from_media_type("text/html", &c, &err) < 0);
        assert_non_null(strstr(err->msg, "unknown layer media type `text/html`"));
        berr_free(err);
        assert_string_equal(layer_media_type(LAYER_ZSTD), "application/vnd.oci.image.layer.v1.tar+zstd");
        assert_int_equal(layer_compression_sniff("\x1f\x8b\x08", 3), LAYER_GZIP);
        assert_int_equal(layer_compression_sniff("\x28\xb5\x2f\xfd", 4), LAYER_ZSTD);
        assert_int_equal(layer_compression_sniff("etc/", 4), LAYER_UNCOMPRESSED);
        assert_int_equal(layer_compression_sniff("\x1f", 1), LAYER_UNCOMPRESSED);
}

static void test_types_and_metadata(void **state)
{
        struct tb t = {0};
        struct stat st, st2;
        char *s;

        tb_header(&t, "d/", '5', 0750, 1000, 1001, 0, 1600000000, NULL);
        tb_header(&t, "d/suid", '0', 04755, 1000, 1001, 3, 1500000000, NULL);
        tb_data(&t, "abc", 3);
        tb_header(&t, "d/link", '2', 0777, 1002, 1003, 0, 1400000000, "suid");
        tb_hardlink(&t, "d/hard", "d/suid");
        tb_header(&t, "d/null", '3', 0666, 0, 0, 0, 1, NULL);
        tb_devnums(&t, 1, 3);
        tb_header(&t, "d/fifo", '6', 0640, 5, 6, 0, 1, NULL);
        /* A read-only directory still gets its content, and its mtime survives it. */
        tb_header(&t, "ro/", '5', 0555, 0, 0, 0, 1300000000, NULL);
        tb_file(&t, "ro/inside", "x", 0400);
        tb_header(&t, "implicit/parent/file", '0', 0644, 0, 0, 0, 1, NULL);
        tb_header(&t, "./", '5', 0711, 0, 0, 0, 1200000000, NULL);
        tb_end(&t);
        unpack_ok(&t, NULL);

        assert_int_equal(lstat(P("d"), &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0750);
        assert_int_equal(st.st_uid, 1000);
        assert_int_equal(st.st_gid, 1001);
        assert_int_equal(st.st_mtime, 1600000000);

        assert_int_equal(lstat(P("d/suid"), &st), 0);
        assert_int_equal(st.st_mode & 07777, 04755); /* survives the chown */
        assert_int_equal(st.st_uid, 1000);
        assert_int_equal(st.st_mtime, 1500000000);
        assert_int_equal(st.st_nlink, 2);
        assert_int_equal(lstat(P("d/hard"), &st2), 0);
        assert_int_equal(st.st_ino, st2.st_ino);
        s = slurp(P("d/suid"));
        assert_string_equal(s, "abc");
        free(s);

        assert_int_equal(lstat(P("d/link"), &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        assert_int_equal(st.st_uid, 1002);
        assert_int_equal(st.st_gid, 1003);
        assert_int_equal(st.st_mtime, 1400000000);

        assert_int_equal(lstat(P("d/null"), &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(1, 3));
        assert_int_equal(st.st_mode & 07777, 0666);
        assert_int_equal(lstat(P("d/fifo"), &st), 0);
        assert_true(S_ISFIFO(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(st.st_uid, 5);

        assert_int_equal(lstat(P("ro"), &st), 0);
        assert_int_equal(st.st_mode & 07777, 0555);
        assert_int_equal(st.st_mtime, 1300000000);
        assert_true(exists(P("ro/inside")));
        assert_int_equal(lstat(P("implicit/parent"), &st), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        assert_int_equal(lstat(dest, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0711);
        assert_int_equal(st.st_mtime, 1200000000);
        tb_free(&t);
}

static void test_no_chown(void **state)
{
        struct tb t = {0};
        struct unpack_opts o = {.no_chown = true};
        struct stat st;

        tb_header(&t, "f", '0', 0644, 1234, 1234, 0, 1, NULL);
        tb_header(&t, "d/", '5', 0755, 1234, 1234, 0, 1, NULL);
        tb_end(&t);
        unpack_ok(&t, &o);
        assert_int_equal(lstat(P("f"), &st), 0);
        assert_int_equal(st.st_uid, getuid());
        assert_int_equal(lstat(P("d"), &st), 0);
        assert_int_equal(st.st_uid, getuid());
        tb_free(&t);
}

static void test_xattrs(void **state)
{
        struct tb t = {0};
        char v[16];
        const char *kv[] = {"SCHILY.xattr.user.color", "blue", "SCHILY.xattr.trusted.overlay.opaque", "y",
                            "SCHILY.xattr.security.selinux", "system_u:object_r:etc_t:s0", NULL};
        struct unpack_result res;
        char *msg = NULL;

        tb_pax(&t, 'x', kv);
        tb_dir(&t, "d/", 0755);
        tb_pax(&t, 'x', kv);
        tb_file(&t, "d/f", "x", 0644);
        tb_end(&t);
        assert_int_equal(unpack_into(dest_fd, t.buf, t.len, LAYER_UNCOMPRESSED, NULL, t.len, &res, &msg), 0);
        assert_int_equal(getxattr(P("d/f"), "user.color", v, sizeof(v)), 4);
        assert_true(strneq(v, "blue", 4));
        assert_int_equal(getxattr(P("d"), "user.color", v, sizeof(v)), 4);
        /* An image must not be able to steer overlayfs. */
        assert_true(getxattr(P("d"), "trusted.overlay.opaque", v, sizeof(v)) < 0);
        assert_true(getxattr(P("d/f"), "trusted.overlay.opaque", v, sizeof(v)) < 0);
        assert_int_equal(res.skipped, 4);
        tb_free(&t);
}

static void test_escapes_stay_inside(void **state)
{
        struct tb t = {0};
        char outside[128], *s;
        DIR *d;
        struct dirent *de;
        int n = 0;

        snprintf(outside, sizeof(outside), "%s/outside", top);
        assert_int_equal(mkdir(outside, 0755), 0);

        tb_file(&t, "../../escape1", "1", 0644);
        tb_file(&t, "/abs/escape2", "2", 0644);
        tb_symlink(&t, "evil", "/");
        tb_file(&t, "evil/escape3", "3", 0644);
        tb_symlink(&t, "up", "../../../..");
        tb_file(&t, "up/escape4", "4", 0644);
        /* A chain: c1 -> c2 -> the real (host) path of a sibling dir. */
        tb_symlink(&t, "c1", "c2");
        tb_symlink(&t, "c2", outside);
        tb_file(&t, "c1/escape5", "5", 0644);
        /* A symlink to the host's /etc resolves to dest/etc, i.e. itself: a loop, refused. */
        tb_symlink(&t, "etc", "/realetc");
        tb_file(&t, "etc/passwd", "pwned", 0644);
        /* Hardlink to a name that resolves inside dest. */
        tb_hardlink(&t, "hl", "../../../etc/passwd");
        tb_end(&t);
        unpack_ok(&t, NULL);

        s = slurp(P("escape1"));
        assert_string_equal(s, "1");
        free(s);
        s = slurp(P("abs/escape2"));
        assert_string_equal(s, "2");
        free(s);
        s = slurp(P("escape3"));
        assert_string_equal(s, "3");
        free(s);
        s = slurp(P("escape4"));
        assert_string_equal(s, "4");
        free(s);
        /* The chain resolved inside dest, recreating the host path there. */
        {
                char rel[300];
                snprintf(rel, sizeof(rel), "%s/escape5", outside + 1);
                s = slurp(P(rel));
                assert_string_equal(s, "5");
                free(s);
        }
        s = slurp(P("realetc/passwd"));
        assert_string_equal(s, "pwned");
        free(s);
        s = slurp(P("hl"));
        assert_string_equal(s, "pwned");
        free(s);
        s = slurp("/etc/passwd");
        assert_non_null(s);
        assert_null(strstr(s, "pwned"));
        free(s);
        /* Nothing appeared next to dest. */
        d = opendir(outside);
        while ((de = readdir(d)))
                n++;
        closedir(d);
        assert_int_equal(n, 2);
        d = opendir(top);
        n = 0;
        while ((de = readdir(d)))
                n++;
        closedir(d);
        assert_int_equal(n, 4); /* ., .., dest, outside */
        tb_free(&t);

        /* A hardlink to a file the layer does not have fails, naming both. */
        tb_hardlink(&t, "hl2", "/etc/shadow");
        tb_end(&t);
        unpack_fails(&t, NULL, "layer entry `hl2`: hardlink target `/etc/shadow` is not in the layer");
        tb_free(&t);

        /* The root cannot be replaced by a file. */
        tb_file(&t, "./", "x", 0644);
        tb_end(&t);
        unpack_fails(&t, NULL, "would replace the layer root");
        tb_free(&t);

        tb_symlink(&t, "loop", "/loop");
        tb_file(&t, "loop/x", "x", 0644);
        tb_end(&t);
        unpack_fails(&t, NULL, "layer entry `loop/x`: open parent directory `loop`: Too many levels of symbolic links");
        tb_free(&t);
}

static void test_whiteouts_overlay(void **state)
{
        struct tb t = {0};
        struct unpack_opts o = {.overlay_whiteouts = true};
        struct stat st;
        char v[4];
        char *l;

        tb_dir(&t, "a/", 0755);
        tb_file(&t, "a/.wh.gone", "", 0644);
        tb_file(&t, "a/.wh..wh..opq", "", 0644);
        tb_file(&t, "a/keep", "k", 0644);
        tb_file(&t, ".wh.top", "", 0644);
        tb_file(&t, "deep/er/.wh..wh..opq", "", 0644);
        tb_file(&t, ".wh..wh.plnk", "", 0644);
        tb_end(&t);
        unpack_ok(&t, &o);
        assert_int_equal(lstat(P("a/gone"), &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(0, 0));
        assert_int_equal(lstat(P("top"), &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(getxattr(P("a"), "trusted.overlay.opaque", v, sizeof(v)), 1);
        assert_int_equal(v[0], 'y');
        assert_int_equal(getxattr(P("deep/er"), "trusted.overlay.opaque", v, sizeof(v)), 1);
        assert_true(exists(P("a/keep")));
        l = tree_listing(dest);
        assert_null(strstr(l, ".wh."));
        free(l);
        tb_free(&t);

        tb_file(&t, "x/.wh.dir/child", "", 0644);
        tb_end(&t);
        unpack_fails(&t, &o, "layer entry `x/.wh.dir/child`: path goes through a whiteout");
        tb_free(&t);

        /* userxattr flavour for rootless overlay. */
        o.overlay_userxattr = true;
        tb_file(&t, "b/.wh..wh..opq", "", 0644);
        tb_end(&t);
        unpack_ok(&t, &o);
        assert_int_equal(getxattr(P("b"), "user.overlay.opaque", v, sizeof(v)), 1);
        tb_free(&t);
}

static void test_whiteouts_flatten(void **state)
{
        struct tb t = {0};
        char *l;

        tb_dir(&t, "a/", 0755);
        tb_file(&t, "a/1", "1", 0644);
        tb_dir(&t, "a/sub/", 0755);
        tb_file(&t, "a/sub/2", "2", 0644);
        tb_dir(&t, "b/", 0755);
        tb_file(&t, "b/x", "x", 0644);
        tb_file(&t, "b/y", "y", 0644);
        tb_file(&t, "c", "c", 0644);
        tb_dir(&t, "e/", 0755);
        tb_dir(&t, "e/kept/", 0755);
        tb_file(&t, "e/kept/lower", "l", 0644);
        tb_end(&t);
        unpack_ok(&t, NULL);
        tb_free(&t);

        tb_dir(&t, "a/", 0755);
        tb_file(&t, "a/-before", "same layer, before the marker", 0644);
        tb_file(&t, "a/.wh..wh..opq", "", 0644);
        tb_file(&t, "a/after", "after", 0644);
        tb_file(&t, ".wh.c", "", 0644);
        tb_file(&t, "b/.wh.x", "", 0644);
        tb_file(&t, "d", "new", 0644);
        tb_file(&t, ".wh.d", "", 0644); /* same layer: no effect */
        tb_file(&t, ".wh.nonexistent", "", 0644);
        tb_file(&t, "nodir/.wh.x", "", 0644);
        /* Opaque over a dir whose subdir this layer re-creates: lower content of both goes. */
        tb_dir(&t, "e/", 0755);
        tb_dir(&t, "e/kept/", 0755);
        tb_file(&t, "e/kept/upper", "u", 0644);
        tb_file(&t, "e/.wh..wh..opq", "", 0644);
        tb_end(&t);
        unpack_ok(&t, NULL);

        assert_true(exists(P("a/-before")));
        assert_true(exists(P("a/after")));
        assert_false(exists(P("a/1")));
        assert_false(exists(P("a/sub")));
        assert_false(exists(P("c")));
        assert_false(exists(P("b/x")));
        assert_true(exists(P("b/y")));
        assert_true(exists(P("d")));
        assert_false(exists(P("nodir")));
        assert_true(exists(P("e/kept/upper")));
        assert_false(exists(P("e/kept/lower")));
        l = tree_listing(dest);
        assert_null(strstr(l, ".wh."));
        free(l);
        tb_free(&t);
}

static void test_replacements(void **state)
{
        struct tb t = {0};
        struct stat st;
        char *s;

        tb_dir(&t, "x/", 0755);
        tb_file(&t, "x/inner", "i", 0644);
        tb_file(&t, "y", "y", 0644);
        tb_file(&t, "z", "z", 0644);
        tb_dir(&t, "keep/", 0755);
        tb_file(&t, "keep/old", "o", 0644);
        tb_end(&t);
        unpack_ok(&t, NULL);
        tb_free(&t);

        tb_file(&t, "x", "now a file", 0600);
        tb_dir(&t, "y/", 0700);
        tb_file(&t, "y/child", "c", 0644);
        tb_symlink(&t, "z", "y");
        tb_header(&t, "keep/", '5', 0711, 0, 0, 0, 1, NULL);
        tb_file(&t, "keep/new", "n", 0644);
        tb_file(&t, "twice", "first", 0644);
        tb_file(&t, "twice", "second", 0644);
        tb_hardlink(&t, "twice", "twice");
        tb_end(&t);
        unpack_ok(&t, NULL);
        s = slurp(P("x"));
        assert_string_equal(s, "now a file");
        free(s);
        assert_int_equal(lstat(P("y"), &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(lstat(P("z"), &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        assert_true(exists(P("keep/old")));
        assert_true(exists(P("keep/new")));
        assert_int_equal(lstat(P("keep"), &st), 0);
        assert_int_equal(st.st_mode & 07777, 0711);
        s = slurp(P("twice"));
        assert_string_equal(s, "second");
        free(s);
        tb_free(&t);
}

static void sha256_of(const void *buf, size_t len, char out[136])
{
        assert_int_equal(digest_buf(DIGEST_SHA256, buf, len, out, 136), 0);
}

static void fresh_dest(void)
{
        close(dest_fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, dest, NULL), 0);
        assert_int_equal(mkdir(dest, 0755), 0);
        dest_fd = open(dest, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(dest_fd >= 0);
}

static void test_compression_and_chunking(void **state)
{
        struct tb tar = {0}, gz = {0}, gzm = {0}, zs = {0};
        char want[136], *ref, *l, *msg = NULL;
        struct unpack_result res;
        struct {
                struct tb *b;
                enum layer_compression c;
        } streams[] = {{&tar, LAYER_UNCOMPRESSED}, {&gz, LAYER_GZIP}, {&gzm, LAYER_GZIP}, {&zs, LAYER_ZSTD}};
        size_t chunks[] = {1, 0, 0, 4096, 1 << 20};

        sample_layer(&tar);
        sha256_of(tar.buf, tar.len, want);
        gzip_member(&gz, tar.buf, tar.len);
        /* Three members, split inside an entry: still one tar stream. */
        gzip_member(&gzm, tar.buf, 700);
        gzip_member(&gzm, tar.buf + 700, 100000);
        gzip_member(&gzm, tar.buf + 100700, tar.len - 100700);
        zstd_frame(&zs, tar.buf, 5000);
        zstd_frame(&zs, tar.buf + 5000, tar.len - 5000);

        assert_int_equal(unpack_into(dest_fd, tar.buf, tar.len, LAYER_UNCOMPRESSED, NULL, tar.len, &res, NULL), 0);
        assert_string_equal(res.diff_id, want);
        assert_int_equal(res.uncompressed_size, tar.len);
        assert_int_equal(res.entries, 7);
        ref = tree_listing(dest);
        srand(7);
        for (size_t s = 0; s < ARRAY_SIZE(streams); s++)
                for (size_t c = 0; c < ARRAY_SIZE(chunks); c++) {
                        /* 1-byte feeding of the big layer is slow under ASan: once per stream is enough. */
                        if (chunks[c] == 1 && s == 0)
                                continue;
                        fresh_dest();
                        if (unpack_into(dest_fd, streams[s].b->buf, streams[s].b->len, streams[s].c, NULL,
                                        chunks[c], &res, &msg) < 0)
                                fail_msg("stream %zu chunk %zu: %s", s, chunks[c], msg);
                        assert_string_equal(res.diff_id, want);
                        l = tree_listing(dest);
                        assert_string_equal(l, ref);
                        free(l);
                }
        free(ref);
        tb_free(&tar);
        tb_free(&gz);
        tb_free(&gzm);
        tb_free(&zs);
}

static void expect_stream_error(const void *buf, size_t len, enum layer_compression c, const char *needle)
{
        char *msg = NULL;

        fresh_dest();
        if (unpack_into(dest_fd, buf, len, c, NULL, 1000, NULL, &msg) == 0)
                fail_msg("unpack succeeded, expected `%s`", needle);
        if (!strstr(msg, needle))
                fail_msg("error `%s` does not contain `%s`", msg, needle);
        free(msg);
}

static void test_corrupt_streams(void **state)
{
        struct tb tar = {0}, gz = {0}, zs = {0}, tmp = {0};

        sample_layer(&tar);
        gzip_member(&gz, tar.buf, tar.len);
        zstd_frame(&zs, tar.buf, tar.len);

        expect_stream_error(gz.buf, gz.len - 5, LAYER_GZIP, "gzip: stream truncated");
        expect_stream_error(gz.buf, gz.len / 2, LAYER_GZIP, "gzip: stream truncated");
        tb_put(&tmp, gz.buf, gz.len);
        tmp.buf[gz.len / 2] ^= 0x55;
        expect_stream_error(tmp.buf, tmp.len, LAYER_GZIP, "gzip: corrupt data");
        tb_free(&tmp);
        /* CRC trailer mismatch. */
        tb_put(&tmp, gz.buf, gz.len);
        tmp.buf[gz.len - 6] ^= 1;
        expect_stream_error(tmp.buf, tmp.len, LAYER_GZIP, "gzip: corrupt data");
        tb_free(&tmp);
        tb_put(&tmp, gz.buf, gz.len);
        tb_put(&tmp, "garbage", 7);
        expect_stream_error(tmp.buf, tmp.len, LAYER_GZIP, "unexpected data after the end");
        tb_free(&tmp);
        /* Zero padding after the last member is tolerated. */
        tb_put(&tmp, gz.buf, gz.len);
        tb_put(&tmp, NULL, 4096);
        fresh_dest();
        assert_int_equal(unpack_into(dest_fd, tmp.buf, tmp.len, LAYER_GZIP, NULL, 100, NULL, NULL), 0);
        tb_free(&tmp);
        expect_stream_error(tar.buf, tar.len, LAYER_GZIP, "gzip: corrupt data at offset");

        expect_stream_error(zs.buf, zs.len - 3, LAYER_ZSTD, "zstd: stream truncated");
        tb_put(&tmp, zs.buf, zs.len);
        tb_put(&tmp, "junk", 4);
        expect_stream_error(tmp.buf, tmp.len, LAYER_ZSTD, "zstd: corrupt data");
        tb_free(&tmp);
        expect_stream_error(zs.buf, 0, LAYER_ZSTD, "zstd: stream truncated");
        expect_stream_error(gz.buf, 0, LAYER_GZIP, "gzip: stream truncated");

        expect_stream_error(tar.buf, tar.len - 1024 - 512, LAYER_UNCOMPRESSED, "truncated");
        expect_stream_error(tar.buf, 0, LAYER_UNCOMPRESSED, "no end-of-archive blocks");
        /* A whole tar whose gzip stream ends early: the tar is complete but the trailer is missing. */
        expect_stream_error(gz.buf, gz.len - 1, LAYER_GZIP, "gzip: stream truncated");
        tb_free(&tar);
        tb_free(&gz);
        tb_free(&zs);
}

static void test_caps(void **state)
{
        struct tb t = {0};
        struct unpack_opts o = {.max_entries = 2};

        tb_file(&t, "a", "1", 0644);
        tb_file(&t, "b", "2", 0644);
        tb_file(&t, "c", "3", 0644);
        tb_end(&t);
        unpack_fails(&t, &o, "layer has more than 2 entries");
        o = (struct unpack_opts){.max_uncompressed = 1536};
        fresh_dest();
        unpack_fails(&t, &o, "layer is larger than 1536 bytes uncompressed");
        tb_free(&t);

        /* Paths longer than PATH_MAX. */
        {
                char name[5000];
                const char *kv[] = {"path", name, NULL};
                for (size_t i = 0; i < sizeof(name) - 1; i++)
                        name[i] = i % 100 == 99 ? '/' : 'n';
                name[sizeof(name) - 1] = '\0';
                tb_pax(&t, 'x', kv);
                tb_file(&t, "x", "", 0644);
                tb_end(&t);
                fresh_dest();
                unpack_fails(&t, NULL, "name too long");
                tb_free(&t);
        }
}

static bool run(const char *cmd)
{
        int r = system(cmd);
        return r != -1 && WIFEXITED(r) && WEXITSTATUS(r) == 0;
}

static void test_sparse_from_gnu_tar(void **state)
{
        static const char *formats[] = {
                "--format=gnu",
                "--format=pax --sparse-version=0.0",
                "--format=pax --sparse-version=0.1",
                "--format=pax --sparse-version=1.0",
        };
        char src[128], cmd[512], tarpath[160];

        snprintf(src, sizeof(src), "%s/src", top);
        snprintf(tarpath, sizeof(tarpath), "%s/sparse.tar", top);
        snprintf(cmd, sizeof(cmd),
                 "mkdir -p %s && cd %s && truncate -s 20M sp && printf head | dd of=sp conv=notrunc status=none && "
                 "printf middle | dd of=sp bs=1 seek=10000000 conv=notrunc status=none && truncate -s 30M hole",
                 src, src);
        if (!run("command -v tar >/dev/null") || !run(cmd))
                skip();
        for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
                struct stat st;
                char *msg = NULL;
                _cleanup_close_ int fd = -1;
                struct unpack_result res;
                struct berr *err = NULL;

                snprintf(cmd, sizeof(cmd), "tar -C %s --sparse %s -cf %s sp hole", src, formats[i], tarpath);
                assert_true(run(cmd));
                fresh_dest();
                fd = open(tarpath, O_RDONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                if (layer_unpack_fd(fd, dest_fd, LAYER_UNCOMPRESSED, NULL, &res, &err) < 0)
                        fail_msg("%s: %s", formats[i], err->msg);
                snprintf(cmd, sizeof(cmd), "cmp %s/sp %s/sp && cmp %s/hole %s/hole", src, dest, src, dest);
                assert_true(run(cmd));
                assert_int_equal(lstat(P("sp"), &st), 0);
                assert_int_equal(st.st_size, 20 << 20);
                assert_true(st.st_blocks * 512 < (1 << 20)); /* holes stayed holes */
                assert_int_equal(lstat(P("hole"), &st), 0);
                assert_int_equal(st.st_size, 30 << 20);
                assert_true(st.st_blocks * 512 < (1 << 20));
                free(msg);
        }
}

static void make_tree(const char *root)
{
        char cmd[2048];
        snprintf(cmd, sizeof(cmd),
                 "set -e; cd %s; mkdir -p a/b/c emptydir ro; printf hello > a/file; chmod 4711 a/file; "
                 "printf x > a/b/c/deep; ln a/file a/hardlink; ln -s ../file a/b/rel; ln -s /abs/target abs; "
                 "mkfifo fifo; touch -d @1234567890 a/b/c/deep; chown 1000:2000 a/b; "
                 "d=%0100d; mkdir -p long/$d/$d; printf long > long/$d/$d/$d; "
                 "ln -s long/$d/$d/$d longlink; printf r > ro/f; chmod 555 ro; "
                 "head -c 300000 /dev/urandom > big; touch -h -d @1000000000 abs",
                 root, 0);
        assert_true(run(cmd));
}

static void test_pack_round_trip(void **state)
{
        char src[128], out[160], cmd[512];
        enum layer_compression cs[] = {LAYER_UNCOMPRESSED, LAYER_GZIP, LAYER_ZSTD};
        char *want, *got;
        char first_digest[136] = "";

        snprintf(src, sizeof(src), "%s/src", top);
        snprintf(out, sizeof(out), "%s/layer", top);
        assert_int_equal(mkdir(src, 0755), 0);
        make_tree(src);
        {
                char p[200];
                snprintf(p, sizeof(p), "%s/a/file", src);
                assert_int_equal(setxattr(p, "user.note", "value", 5, 0), 0);
        }
        want = tree_listing(src);
        for (size_t i = 0; i < ARRAY_SIZE(cs); i++) {
                struct pack_result pr, pr2;
                struct unpack_result ur;
                struct berr *err = NULL;
                char *blob = NULL, digest[136];
                size_t len;
                _cleanup_close_ int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

                assert_true(sfd >= 0 && ofd >= 0);
                if (layer_pack_dir(sfd, ofd, cs[i], NULL, &pr, &err) < 0)
                        fail_msg("pack: %s", err->msg);
                close(ofd);
                assert_int_equal(read_file_at(AT_FDCWD, out, 64 << 20, &blob, &len, NULL), 0);
                assert_int_equal(len, pr.size);
                sha256_of(blob, len, digest);
                assert_string_equal(digest, pr.digest);
                if (cs[i] == LAYER_UNCOMPRESSED) {
                        assert_string_equal(pr.diff_id, pr.digest);
                        strcpy(first_digest, pr.diff_id);
                } else {
                        /* Same tar whatever the compression. */
                        assert_string_equal(pr.diff_id, first_digest);
                        assert_string_not_equal(pr.digest, first_digest);
                }
                fresh_dest();
                assert_int_equal(unpack_into(dest_fd, blob, len, cs[i], NULL, 0, &ur, NULL), 0);
                assert_string_equal(ur.diff_id, pr.diff_id);
                assert_int_equal(ur.entries, pr.entries);
                {
                        char v[8];
                        assert_int_equal(getxattr(P("a/file"), "user.note", v, sizeof(v)), 5);
                }
                got = tree_listing(dest);
                /* The root dir itself is not part of a layer. */
                assert_string_equal(strchr(got, '\n'), strchr(want, '\n'));
                free(got);
                free(blob);

                /* Deterministic: the same tree packs to the same bytes. */
                ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                assert_int_equal(layer_pack_dir(sfd, ofd, cs[i], NULL, &pr2, NULL), 0);
                close(ofd);
                assert_string_equal(pr.digest, pr2.digest);
        }
        /* GNU tar reads it back too. */
        {
                _cleanup_close_ int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                assert_int_equal(layer_pack_dir(sfd, ofd, LAYER_GZIP, NULL, NULL, NULL), 0);
                close(ofd);
                snprintf(cmd, sizeof(cmd), "tar -tzf %s | grep -qx 'a/b/c/deep'", out);
                assert_true(run(cmd));
        }
        free(want);
}

static void test_pack_overlay_upper(void **state)
{
        char upper[128], out[160], *l1, *l2;
        struct pack_result pr;
        struct unpack_result ur;
        char v[4];
        _cleanup_close_ int ufd = -1;
        int ofd;
        char *blob = NULL;
        size_t len;

        snprintf(upper, sizeof(upper), "%s/upper", top);
        snprintf(out, sizeof(out), "%s/layer", top);
        assert_int_equal(mkdir(upper, 0755), 0);
        {
                char p[256];
                snprintf(p, sizeof(p), "%s/gone", upper);
                assert_int_equal(mknod(p, S_IFCHR | 0000, makedev(0, 0)), 0);
                snprintf(p, sizeof(p), "%s/opq", upper);
                assert_int_equal(mkdir(p, 0755), 0);
                assert_int_equal(setxattr(p, "trusted.overlay.opaque", "y", 1, 0), 0);
                snprintf(p, sizeof(p), "%s/opq/new", upper);
                assert_int_equal(write_file_at(AT_FDCWD, p, "n", 1, O_CREAT | O_WRONLY, 0644, NULL), 0);
                snprintf(p, sizeof(p), "%s/opq/-first", upper);
                assert_int_equal(mknod(p, S_IFCHR | 0000, makedev(0, 0)), 0);
                snprintf(p, sizeof(p), "%s/realdev", upper);
                assert_int_equal(mknod(p, S_IFCHR | 0600, makedev(1, 5)), 0);
        }
        ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_int_equal(layer_pack_overlay_upper(ufd, ofd, LAYER_UNCOMPRESSED, NULL, &pr, NULL), 0);
        close(ofd);
        assert_int_equal(read_file_at(AT_FDCWD, out, 1 << 20, &blob, &len, NULL), 0);
        /* The tar holds OCI whiteouts in sorted order. */
        {
                const char *names[] = {".wh.gone", "opq/", "opq/.wh.-first", "opq/.wh..wh..opq", "opq/new",
                                       "realdev"};
                size_t off = 0;
                for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                        char *hit = memmem(blob + off, len - off, names[i], strlen(names[i]) + 1);
                        assert_non_null(hit);
                        off = (size_t)(hit - blob) + 1;
                }
        }
        /* Unpacked as a snapshot layer it becomes the same upper dir again. */
        assert_int_equal(unpack_into(dest_fd, blob, len, LAYER_UNCOMPRESSED,
                                     &(struct unpack_opts){.overlay_whiteouts = true}, 0, &ur, NULL), 0);
        assert_int_equal(getxattr(P("opq"), "trusted.overlay.opaque", v, sizeof(v)), 1);
        l1 = tree_listing(upper);
        l2 = tree_listing(dest);
        assert_string_equal(strchr(l1, '\n'), strchr(l2, '\n'));
        free(l1);
        free(l2);
        free(blob);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_media_types),
                cmocka_unit_test_setup_teardown(test_types_and_metadata, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_chown, setup, teardown),
                cmocka_unit_test_setup_teardown(test_xattrs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_escapes_stay_inside, setup, teardown),
                cmocka_unit_test_setup_teardown(test_whiteouts_overlay, setup, teardown),
                cmocka_unit_test_setup_teardown(test_whiteouts_flatten, setup, teardown),
                cmocka_unit_test_setup_teardown(test_replacements, setup, teardown),
                cmocka_unit_test_setup_teardown(test_compression_and_chunking, setup, teardown),
                cmocka_unit_test_setup_teardown(test_corrupt_streams, setup, teardown),
                cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sparse_from_gnu_tar, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pack_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pack_overlay_upper, setup, teardown),
        };
        return cmocka_run_group_tests_name("unpack", tests, NULL, NULL);
}
