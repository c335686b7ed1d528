/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "image/tar.h"
#include "tar-builder.h"

/* Every callback appends a line to the log, so two runs compare as strings. */
struct rec {
        char *log;
        size_t len;
        bool fail_entry;
};

static void rec_printf(struct rec *r, const char *fmt, ...)
{
        va_list ap;
        char *s;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        r->log = realloc(r->log, r->len + (size_t)n + 1);
        memcpy(r->log + r->len, s, (size_t)n + 1);
        r->len += (size_t)n;
        free(s);
}

static int on_entry(void *ud, const struct tar_entry *e, struct berr **err)
{
        struct rec *r = ud;

        if (r->fail_entry)
                return berr_make(err, 0, "callback refused `%s`", e->name);
        rec_printf(r, "E %s t%d m%o u%u g%u s%llu t%lld.%09u l[%s] d%u:%u", e->name, e->type, e->mode, e->uid,
                   e->gid, (unsigned long long)e->size, (long long)e->mtime, e->mtime_nsec, e->linkname,
                   e->devmajor, e->devminor);
        for (size_t i = 0; i < e->n_xattrs; i++) {
                rec_printf(r, " x[%s=", e->xattrs[i].name);
                for (size_t j = 0; j < e->xattrs[i].len; j++)
                        rec_printf(r, "%02x", (unsigned char)e->xattrs[i].value[j]);
                rec_printf(r, "]");
        }
        for (size_t i = 0; i < e->n_extents; i++)
                rec_printf(r, " X%llu+%llu", (unsigned long long)e->extents[i].off,
                           (unsigned long long)e->extents[i].len);
        rec_printf(r, "\n");
        return 0;
}

/* Data is logged per byte position so chunking does not change the log. */
static int on_data(void *ud, const struct tar_entry *e, uint64_t off, const void *buf, size_t len,
                   struct berr **err)
{
        struct rec *r = ud;
        const unsigned char *p = buf;

        for (size_t i = 0; i < len; i++)
                rec_printf(r, "%llu:%c", (unsigned long long)(off + i), p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
        return 0;
}

static int on_end(void *ud, const struct tar_entry *e, struct berr **err)
{
        rec_printf(ud, "\nEND %s\n", e->name);
        return 0;
}

static const struct tar_reader_ops ops = {on_entry, on_data, on_end};

/* Parses buf fed in chunks of `chunk` bytes (0: random sizes); returns the log
 * or NULL with *msg set to the error. */
static char *parse(const void *buf, size_t len, size_t chunk, char **msg)
{
        struct rec r = {0};
        struct tar_reader *t = NULL;
        struct berr *err = NULL;
        const unsigned char *p = buf;
        int ret = 0;

        assert_int_equal(tar_reader_new(&ops, &r, &t, &err), 0);
        rec_printf(&r, "");
        for (size_t o = 0; o < len && ret == 0;) {
                size_t n = chunk ? chunk : (size_t)(rand() % 1500) + 1;
                n = MIN(n, len - o);
                ret = tar_reader_feed(t, p + o, n, &err);
                o += n;
        }
        if (ret == 0)
                ret = tar_reader_finish(t, &err);
        tar_reader_free(t);
        if (ret < 0) {
                assert_non_null(err);
                if (msg)
                        *msg = strdup(err->msg);
                berr_free(err);
                free(r.log);
                return NULL;
        }
        assert_null(err);
        return r.log;
}

static char *parse_ok(struct tb *t)
{
        char *msg = NULL, *log = parse(t->buf, t->len, t->len, &msg);
        if (!log)
                fail_msg("parse failed: %s", msg);
        return log;
}

static void expect_error(struct tb *t, const char *needle)
{
        char *msg = NULL, *log = parse(t->buf, t->len, t->len, &msg);
        if (log)
                fail_msg("parse succeeded, expected error containing `%s`:\n%s", needle, log);
        if (!strstr(msg, needle))
                fail_msg("error `%s` does not contain `%s`", msg, needle);
        free(msg);
}

static void test_entry_types(void **state)
{
        struct tb t = {0};
        char *log;

        tb_dir(&t, "d/", 0755);
        tb_file(&t, "d/f", "hello", 04755);
        tb_symlink(&t, "d/s", "/abs/target");
        tb_hardlink(&t, "d/h", "d/f");
        tb_header(&t, "d/c", '3', 0620, 0, 5, 0, 1, NULL);
        tb_devnums(&t, 1, 3);
        tb_header(&t, "d/b", '4', 0660, 0, 6, 0, 1, NULL);
        tb_devnums(&t, 8, 1);
        tb_header(&t, "d/p", '6', 0644, 1000, 1000, 0, 1, NULL);
        tb_header(&t, "d/old", '\0', 0600, 0, 0, 2, 1, NULL); /* V7 regular file */
        tb_data(&t, "ok", 2);
        tb_header(&t, "d/contig", '7', 0600, 0, 0, 1, 1, NULL);
        tb_data(&t, "c", 1);
        tb_end(&t);
        log = parse_ok(&t);
        assert_string_equal(log, "E d/ t5 m755 u0 g0 s0 t1700000000.000000000 l[] d0:0\n"
                                 "\nEND d/\n"
                                 "E d/f t0 m4755 u0 g0 s5 t1700000000.000000000 l[] d0:0\n"
                                 "0:h1:e2:l3:l4:o\nEND d/f\n"
                                 "E d/s t2 m777 u0 g0 s0 t1700000000.000000000 l[/abs/target] d0:0\n"
                                 "\nEND d/s\n"
                                 "E d/h t1 m644 u0 g0 s0 t1700000000.000000000 l[d/f] d0:0\n"
                                 "\nEND d/h\n"
                                 "E d/c t3 m620 u0 g5 s0 t1.000000000 l[] d1:3\n"
                                 "\nEND d/c\n"
                                 "E d/b t4 m660 u0 g6 s0 t1.000000000 l[] d8:1\n"
                                 "\nEND d/b\n"
                                 "E d/p t6 m644 u1000 g1000 s0 t1.000000000 l[] d0:0\n"
                                 "\nEND d/p\n"
                                 "E d/old t0 m600 u0 g0 s2 t1.000000000 l[] d0:0\n"
                                 "0:o1:k\nEND d/old\n"
                                 "E d/contig t0 m600 u0 g0 s1 t1.000000000 l[] d0:0\n"
                                 "0:c\nEND d/contig\n");
        free(log);
        tb_free(&t);
}

static void test_header_only_types_ignore_size(void **state)
{
        struct tb t = {0};
        char *log;

        /* A directory claiming 1024 bytes: no data follows (as Go's reader). */
        tb_header(&t, "dir/", '5', 0755, 0, 0, 1024, 1, NULL);
        tb_file(&t, "dir/f", "x", 0644);
        tb_end(&t);
        log = parse_ok(&t);
        assert_non_null(strstr(log, "E dir/f t0"));
        free(log);
        tb_free(&t);
}

static void test_long_names(void **state)
{
        struct tb t = {0};
        char name[300], link[400], *log, expect[1024];
        unsigned char *h;

        memset(name, 'n', sizeof(name));
        name[sizeof(name) - 1] = '\0';
        memset(link, 'l', sizeof(link));
        link[sizeof(link) - 1] = '\0';

        /* GNU 'L' and 'K'. */
        tb_gnu_long(&t, 'L', name);
        tb_gnu_long(&t, 'K', link);
        tb_header(&t, "truncated", '2', 0777, 0, 0, 0, 1, "trunc");
        /* ustar prefix + name. */
        tb_header(&t, "leaf", '0', 0644, 0, 0, 0, 1, NULL);
        h = tb_last(&t);
        memcpy(h + 345, "some/prefix/dir", 15);
        tb_checksum(h);
        /* A 100-byte name without a NUL. */
        memset(name, 'a', 100);
        name[100] = '\0';
        tb_header(&t, name, '0', 0644, 0, 0, 0, 1, NULL);
        tb_end(&t);
        log = parse_ok(&t);
        name[100] = '\0';
        memset(name, 'n', 299);
        name[299] = '\0';
        snprintf(expect, sizeof(expect), "E %s t2 m777 u0 g0 s0 t1.000000000 l[%s] d0:0\n", name, link);
        assert_non_null(strstr(log, expect));
        assert_non_null(strstr(log, "E some/prefix/dir/leaf t0"));
        memset(name, 'a', 100);
        name[100] = '\0';
        snprintf(expect, sizeof(expect), "E %s t0", name);
        assert_non_null(strstr(log, expect));
        free(log);
        tb_free(&t);
}

static void test_pax(void **state)
{
        struct tb t = {0};
        char big[5000], *log;
        const char *global[] = {"uid", "4242", "comment", "ignored", NULL};
        const char *xattr_val = "a\0b"; /* binary value with a NUL */
        char body[512];
        size_t n = 0;

        memset(big, 'p', sizeof(big));
        big[sizeof(big) - 1] = '\0';
        tb_pax(&t, 'g', global);
        {
                const char *kv[] = {"path", big, "linkpath", "/target", "uid", "3000000000", "gid", "77",
                                    "mtime", "1700000000.123456789123", "SCHILY.xattr.user.k", "v", NULL};
                tb_pax(&t, 'x', kv);
        }
        tb_header(&t, "short", '2', 0777, 1, 1, 0, 5, "short-target");
        /* Local pax: size override, negative fractional mtime, binary xattr. */
        n += tb_pax_record(body + n, "size", "3", 1);
        n += tb_pax_record(body + n, "mtime", "-1.5", 4);
        n += tb_pax_record(body + n, "SCHILY.xattr.security.capability", xattr_val, 3);
        tb_header(&t, "PaxHeaders/f", 'x', 0644, 0, 0, n, 0, NULL);
        tb_data(&t, body, n);
        tb_header(&t, "f", '0', 0644, 0, 0, 0, 1, NULL);
        tb_data(&t, "abc", 3);
        /* The global uid applies here; an empty local value unsets it again. */
        tb_header(&t, "g1", '0', 0644, 7, 0, 0, 1, NULL);
        {
                const char *kv[] = {"uid", "", NULL};
                tb_pax(&t, 'x', kv);
        }
        tb_header(&t, "g2", '0', 0644, 7, 0, 0, 1, NULL);
        tb_end(&t);
        log = parse_ok(&t);
        {
                char expect[6000];
                snprintf(expect, sizeof(expect),
                         "E %s t2 m777 u3000000000 g77 s0 t1700000000.123456789 l[/target] d0:0 x[user.k=76]\n", big);
                assert_non_null(strstr(log, expect));
        }
        assert_non_null(strstr(log, "E f t0 m644 u4242 g0 s3 t-2.500000000 l[] d0:0 x[security.capability=610062]\n"
                                    "0:a1:b2:c\n"));
        assert_non_null(strstr(log, "E g1 t0 m644 u4242"));
        assert_non_null(strstr(log, "E g2 t0 m644 u7"));
        free(log);
        tb_free(&t);
}

static void test_base256_numbers(void **state)
{
        struct tb t = {0};
        unsigned char *h;
        char *log;

        tb_header(&t, "big", '0', 0644, 0, 0, 0, 0, NULL);
        h = tb_last(&t);
        /* size 3 in base-256, uid 2^32-2, mtime -2 */
        memset(h + 124, 0, 12);
        h[124] = 0x80;
        h[135] = 3;
        memset(h + 108, 0, 8);
        h[108] = 0x80;
        h[112] = 0xff;
        h[113] = 0xff;
        h[114] = 0xff;
        h[115] = 0xfe;
        memset(h + 136, 0xff, 12);
        h[147] = 0xfe;
        tb_checksum(h);
        tb_data(&t, "xyz", 3);
        tb_end(&t);
        log = parse_ok(&t);
        assert_non_null(strstr(log, "E big t0 m644 u4294967294 g0 s3 t-2.000000000"));
        free(log);
        tb_free(&t);
}

static void test_malformed_headers(void **state)
{
        struct tb t = {0};
        unsigned char *h;

        tb_file(&t, "f", "x", 0644);
        tb_last(&t)[0] = 'g'; /* checksum no longer matches */
        tb_end(&t);
        expect_error(&t, "bad header checksum");
        tb_free(&t);

        tb_header(&t, "f", '0', 0644, 0, 0, 0, 0, NULL);
        h = tb_last(&t);
        memcpy(h + 124, "12345678x00", 11);
        tb_checksum(h);
        tb_end(&t);
        expect_error(&t, "invalid size field");
        tb_free(&t);

        /* Size overflowing int64 in base-256. */
        tb_header(&t, "f", '0', 0644, 0, 0, 0, 0, NULL);
        h = tb_last(&t);
        memset(h + 124, 0xff, 12);
        h[124] = 0x80;
        tb_checksum(h);
        tb_end(&t);
        expect_error(&t, "invalid size field");
        tb_free(&t);

        /* Negative size. */
        tb_header(&t, "f", '0', 0644, 0, 0, 0, 0, NULL);
        h = tb_last(&t);
        memset(h + 124, 0xff, 12);
        tb_checksum(h);
        tb_end(&t);
        expect_error(&t, "invalid size field");
        tb_free(&t);

        /* uid (uid_t)-1 would mean "unchanged" to chown. */
        {
                const char *kv[] = {"uid", "4294967295", NULL};
                tb_pax(&t, 'x', kv);
                tb_file(&t, "f", "", 0644);
                tb_end(&t);
                expect_error(&t, "uid/gid out of range");
                tb_free(&t);
        }
        {
                const char *kv[] = {"size", "99999999999999999999999", NULL};
                tb_pax(&t, 'x', kv);
                tb_file(&t, "f", "", 0644);
                tb_end(&t);
                expect_error(&t, "invalid value for `size`");
                tb_free(&t);
        }
        {
                const char *kv[] = {"path", "a", NULL};
                tb_pax(&t, 'x', kv);
                tb_last(&t)[0] = 0;
                t.buf[t.last + 512] = '5'; /* record length now wrong */
                tb_checksum(tb_last(&t));
                tb_file(&t, "f", "", 0644);
                tb_end(&t);
                expect_error(&t, "pax record");
                tb_free(&t);
        }
        /* pax path with an embedded NUL. */
        {
                char body[64];
                size_t n = tb_pax_record(body, "path", "a\0b", 3);
                tb_header(&t, "p", 'x', 0644, 0, 0, n, 0, NULL);
                tb_data(&t, body, n);
                tb_file(&t, "f", "", 0644);
                tb_end(&t);
                expect_error(&t, "NUL");
                tb_free(&t);
        }

        tb_header(&t, "f", 'Z', 0644, 0, 0, 0, 0, NULL);
        tb_end(&t);
        expect_error(&t, "unsupported entry type 'Z'");
        tb_free(&t);

        tb_header(&t, "f", 'M', 0644, 0, 0, 0, 0, NULL);
        tb_end(&t);
        expect_error(&t, "multi-volume");
        tb_free(&t);

        /* A metadata header larger than the cap. */
        tb_header(&t, "p", 'x', 0644, 0, 0, 2 << 20, 0, NULL);
        tb_end(&t);
        expect_error(&t, "larger than 1 MiB");
        tb_free(&t);

        tb_header(&t, "", '0', 0644, 0, 0, 0, 0, NULL);
        tb_end(&t);
        expect_error(&t, "empty name");
        tb_free(&t);

        tb_header(&t, "l", '2', 0777, 0, 0, 0, 0, NULL);
        tb_end(&t);
        expect_error(&t, "link without a target");
        tb_free(&t);

        /* A zero block followed by another header. */
        tb_put(&t, NULL, 512);
        tb_file(&t, "f", "x", 0644);
        tb_end(&t);
        expect_error(&t, "data after a zero block");
        tb_free(&t);

        /* A pax header right before the end. */
        {
                const char *kv[] = {"path", "x", NULL};
                tb_pax(&t, 'x', kv);
                tb_end(&t);
                expect_error(&t, "end of archive after a metadata header");
                tb_free(&t);
        }
}

static void test_truncation(void **state)
{
        struct tb t = {0};
        size_t body;

        tb_dir(&t, "d/", 0755);
        tb_file(&t, "d/f", "0123456789abcdefghijklmnopqrstuvwxyz", 0644);
        {
                const char *kv[] = {"path", "d/long", NULL};
                tb_pax(&t, 'x', kv);
        }
        tb_file(&t, "ignored", "more data", 0644);
        body = t.len;
        tb_end(&t);
        /* Every cut before the first end block fails, at feed or at finish. */
        for (size_t cut = 0; cut < t.len; cut++) {
                char *msg = NULL, *log = parse(t.buf, cut, 7, &msg);
                if (cut < body + 512) {
                        if (log)
                                fail_msg("truncation at %zu accepted", cut);
                        assert_true(strstr(msg, "truncated") != NULL);
                        free(msg);
                } else {
                        assert_non_null(log);
                        free(log);
                }
        }
        tb_free(&t);
}

static void test_chunking_is_invisible(void **state)
{
        struct tb t = {0};
        char data[3000];
        char *whole, *log;

        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (char)('a' + i % 26);
        tb_dir(&t, "d/", 0755);
        {
                const char *kv[] = {"path", "d/with-pax-name", "SCHILY.xattr.user.x", "1", NULL};
                tb_pax(&t, 'x', kv);
        }
        tb_header(&t, "x", '0', 0644, 0, 0, sizeof(data), 1, NULL);
        tb_data(&t, data, sizeof(data));
        tb_gnu_long(&t, 'L', "d/gnu-long-name");
        tb_header(&t, "y", '0', 0644, 0, 0, 700, 1, NULL);
        tb_data(&t, data, 700);
        tb_end(&t);
        tb_put(&t, NULL, 10240 - t.len % 10240); /* record padding as GNU tar writes it */

        whole = parse_ok(&t);
        log = parse(t.buf, t.len, 1, NULL);
        assert_string_equal(whole, log);
        free(log);
        srand(42);
        for (int i = 0; i < 20; i++) {
                log = parse(t.buf, t.len, 0, NULL);
                assert_non_null(log);
                assert_string_equal(whole, log);
                free(log);
        }
        free(whole);
        tb_free(&t);
}

static void test_callback_error_stops(void **state)
{
        struct tb t = {0};
        struct rec r = {.fail_entry = true};
        struct tar_reader *tr = NULL;
        struct berr *err = NULL;

        tb_file(&t, "f", "x", 0644);
        tb_end(&t);
        assert_int_equal(tar_reader_new(&ops, &r, &tr, &err), 0);
        assert_true(tar_reader_feed(tr, t.buf, t.len, &err) < 0);
        assert_string_equal(err->msg, "callback refused `f`");
        berr_free(err);
        err = NULL;
        assert_true(tar_reader_feed(tr, t.buf, 1, &err) < 0);
        berr_free(err);
        tar_reader_free(tr);
        free(r.log);
        tb_free(&t);
}

static void test_sparse_pax_formats(void **state)
{
        struct tb t = {0};
        char *log;
        char map[512];

        /* 0.0: offset/numbytes pairs. */
        {
                const char *kv[] = {"GNU.sparse.size", "10000", "GNU.sparse.numblocks", "2",
                                    "GNU.sparse.offset", "0", "GNU.sparse.numbytes", "2",
                                    "GNU.sparse.offset", "9998", "GNU.sparse.numbytes", "2", NULL};
                tb_pax(&t, 'x', kv);
                tb_header(&t, "s00", '0', 0644, 0, 0, 4, 1, NULL);
                tb_data(&t, "abyz", 4);
        }
        /* 0.1: a map string. */
        {
                const char *kv[] = {"GNU.sparse.size", "5000", "GNU.sparse.map", "100,1,4000,2", NULL};
                tb_pax(&t, 'x', kv);
                tb_header(&t, "s01", '0', 0644, 0, 0, 3, 1, NULL);
                tb_data(&t, "QRS", 3);
        }
        /* 1.0: the map heads the data, padded to a block. */
        {
                const char *kv[] = {"GNU.sparse.major", "1", "GNU.sparse.minor", "0", "GNU.sparse.name", "s10",
                                    "GNU.sparse.realsize", "70000", NULL};
                size_t n = (size_t)snprintf(map, sizeof(map), "2\n10\n1\n65536\n3\n");
                tb_pax(&t, 'x', kv);
                tb_header(&t, "GNUSparseFile.0/s10", '0', 0644, 0, 0, 512 + 4, 1, NULL);
                memset(map + n, 0, 512 - n);
                tb_put(&t, map, 512);
                tb_data(&t, "Mxyz", 4);
        }
        /* All hole. */
        {
                const char *kv[] = {"GNU.sparse.size", "4096", "GNU.sparse.map", "", NULL};
                tb_pax(&t, 'x', kv);
                tb_header(&t, "hole", '0', 0644, 0, 0, 0, 1, NULL);
        }
        tb_end(&t);
        log = parse_ok(&t);
        assert_non_null(strstr(log, "E s00 t0 m644 u0 g0 s10000 t1.000000000 l[] d0:0 X0+2 X9998+2\n"
                                    "0:a1:b9998:y9999:z\n"));
        assert_non_null(strstr(log, "E s01 t0 m644 u0 g0 s5000 t1.000000000 l[] d0:0 X100+1 X4000+2\n"
                                    "100:Q4000:R4001:S\n"));
        assert_non_null(strstr(log, "E s10 t0 m644 u0 g0 s70000 t1.000000000 l[] d0:0 X10+1 X65536+3\n"
                                    "10:M65536:x65537:y65538:z\n"));
        assert_non_null(strstr(log, "E hole t0 m644 u0 g0 s4096 t1.000000000 l[] d0:0 X4096+0\n"));
        free(log);
        tb_free(&t);

        /* A map that disagrees with the stored size. */
        {
                const char *kv[] = {"GNU.sparse.size", "10", "GNU.sparse.map", "0,5", NULL};
                tb_pax(&t, 'x', kv);
                tb_header(&t, "bad", '0', 0644, 0, 0, 3, 1, NULL);
                tb_data(&t, "abc", 3);
                tb_end(&t);
                expect_error(&t, "sparse map does not match");
                tb_free(&t);
        }
        /* Extents beyond the real size. */
        {
                const char *kv[] = {"GNU.sparse.size", "10", "GNU.sparse.map", "9,3", NULL};
                tb_pax(&t, 'x', kv);
                tb_header(&t, "bad", '0', 0644, 0, 0, 3, 1, NULL);
                tb_data(&t, "abc", 3);
                tb_end(&t);
                expect_error(&t, "sparse map does not match");
                tb_free(&t);
        }
}

static void test_sparse_old_gnu(void **state)
{
        struct tb t = {0};
        unsigned char *h, ext[512] = {0};
        char *log;

        /* Five extents: four in the header, one in an extension block. */
        tb_header(&t, "old", 'S', 0644, 0, 0, 5, 1, NULL);
        h = tb_last(&t);
        memcpy(h + 257, "ustar  \0", 8);
        for (int i = 0; i < 4; i++) {
                snprintf((char *)h + 386 + 24 * i, 12, "%011o", i * 1000);
                snprintf((char *)h + 386 + 24 * i + 12, 12, "%011o", 1);
        }
        h[482] = 1;
        snprintf((char *)h + 483, 12, "%011o", 5000);
        tb_checksum(h);
        snprintf((char *)ext, 12, "%011o", 4999);
        snprintf((char *)ext + 12, 12, "%011o", 1);
        tb_put(&t, ext, 512);
        tb_data(&t, "ABCDE", 5);
        tb_end(&t);
        log = parse_ok(&t);
        assert_non_null(strstr(log, "E old t0 m644 u0 g0 s5000 t1.000000000 l[] d0:0 X0+1 X1000+1 X2000+1 X3000+1 "
                                    "X4999+1\n0:A1000:B2000:C3000:D4999:E\n"));
        free(log);
        tb_free(&t);
}

static void test_writer_round_trip(void **state)
{
        struct tar_xattr x[] = {{"user.a", "1\0002", 3}, {"security.capability", "caps", 4}};
        char longname[400], longlink[300];
        struct tar_entry in[] = {
                {.name = "dir/", .linkname = "", .type = TAR_DIR, .mode = 0755, .mtime = 1},
                {.name = "dir/file", .linkname = "", .type = TAR_REG, .mode = 04755, .uid = 5000000,
                 .gid = 3, .mtime = 1700000000, .size = 4, .xattrs = x, .n_xattrs = 2},
                {.name = longname, .linkname = longlink, .type = TAR_SYMLINK, .mode = 0777, .mtime = -5,
                 .mtime_nsec = 250000000},
                {.name = "dev", .linkname = "", .type = TAR_BLOCK, .mode = 0600, .devmajor = 259,
                 .devminor = 3000000, .mtime = 8589934593LL},
                {.name = "dir/file-link", .linkname = "dir/file", .type = TAR_HARDLINK, .mode = 0644},
        };
        struct tb t = {0};
        char *log;

        memset(longname, 'N', sizeof(longname));
        longname[sizeof(longname) - 1] = '\0';
        memcpy(longname + 150, "/", 1); /* splittable? no: the tail is 248 bytes */
        memset(longlink, 'L', sizeof(longlink));
        longlink[sizeof(longlink) - 1] = '\0';
        for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
                char *h = NULL;
                size_t n = 0;
                struct berr *err = NULL;
                assert_int_equal(tar_header_format(&in[i], &h, &n, &err), 0);
                assert_int_equal(n % 512, 0);
                tb_put(&t, h, n);
                free(h);
                if (in[i].type == TAR_REG)
                        tb_data(&t, "data", 4);
        }
        tb_end(&t);
        log = parse_ok(&t);
        assert_non_null(strstr(log, "E dir/ t5 m755 u0 g0 s0 t1.000000000 l[] d0:0\n"));
        assert_non_null(strstr(log, "E dir/file t0 m4755 u5000000 g3 s4 t1700000000.000000000 l[] d0:0 "
                                    "x[user.a=310032] x[security.capability=63617073]\n0:d1:a2:t3:a\n"));
        {
                char expect[1024];
                snprintf(expect, sizeof(expect), "E %s t2 m777 u0 g0 s0 t-5.250000000 l[%s] d0:0\n", longname,
                         longlink);
                assert_non_null(strstr(log, expect));
        }
        assert_non_null(strstr(log, "E dev t4 m600 u0 g0 s0 t8589934593.000000000 l[] d259:3000000\n"));
        assert_non_null(strstr(log, "E dir/file-link t1 m644 u0 g0 s0 t0.000000000 l[dir/file] d0:0\n"));
        free(log);
        tb_free(&t);

        /* A 200-byte name with a '/' in the right place goes into prefix + name, no pax. */
        {
                char name[201];
                char *h = NULL;
                size_t n = 0;
                struct tar_entry e = {.name = name, .linkname = "", .type = TAR_REG, .mode = 0644};
                memset(name, 'p', 200);
                name[120] = '/';
                name[200] = '\0';
                assert_int_equal(tar_header_format(&e, &h, &n, NULL), 0);
                assert_int_equal(n, 512);
                tb_put(&t, h, n);
                tb_end(&t);
                log = parse_ok(&t);
                assert_true(strneq(log + 2, name, 200));
                free(log);
                free(h);
                tb_free(&t);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_entry_types),
                cmocka_unit_test(test_header_only_types_ignore_size),
                cmocka_unit_test(test_long_names),
                cmocka_unit_test(test_pax),
                cmocka_unit_test(test_base256_numbers),
                cmocka_unit_test(test_malformed_headers),
                cmocka_unit_test(test_truncation),
                cmocka_unit_test(test_chunking_is_invisible),
                cmocka_unit_test(test_callback_error_stops),
                cmocka_unit_test(test_sparse_pax_formats),
                cmocka_unit_test(test_sparse_old_gnu),
                cmocka_unit_test(test_writer_round_trip),
        };
        return cmocka_run_group_tests_name("tar", tests, NULL, NULL);
}
