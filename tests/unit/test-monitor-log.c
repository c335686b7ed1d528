/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "monitor/attach.h"
#include "monitor/ctrlog.h"
#include "monitor/server.h"
#include "monitor/status.h"

#define T0   1700000000123456789LL
#define T0_S "2023-11-14T22:13:20.123456789Z"
#define SEC  1000000000LL

static char tmpdir[64];
static char logpath[128];

static int setup_tmp(void **state)
{
        strcpy(tmpdir, "/tmp/berth-unit-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
        snprintf(logpath, sizeof(logpath), "%s/ctr.log", tmpdir);
        return 0;
}

static int teardown_tmp(void **state)
{
        assert_int_equal(rm_rf_at(AT_FDCWD, tmpdir, NULL), 0);
        return 0;
}

static char *slurp(const char *path)
{
        char *text = NULL;

        assert_int_equal(read_file_at(AT_FDCWD, path, 1 << 24, &text, NULL, NULL), 0);
        return text;
}

static struct ctrlog_writer *open_writer(enum ctrlog_driver d, uint64_t size_max, unsigned files)
{
        _cleanup_berr_ struct berr *e = NULL;
        struct ctrlog_writer *w = NULL;

        if (ctrlog_writer_open(logpath, d, size_max, files, &w, &e) < 0)
                fail_msg("%s", e->msg);
        return w;
}

static void put(struct ctrlog_writer *w, enum ctrlog_stream s, const char *text, int64_t now)
{
        _cleanup_berr_ struct berr *e = NULL;

        if (ctrlog_write(w, s, text, strlen(text), now, &e) < 0)
                fail_msg("%s", e->msg);
}

/* Records read back, as "stream P|F msg\n" lines. */
struct collect {
        char *text;
        size_t len, cap;
        size_t n;
        struct ctrlog_writer *w; /* follow test: the writer its steps drive */
        int step;
};

static int collect_fn(const struct ctrlog_record *rec, void *userdata, struct berr **err)
{
        struct collect *c = userdata;
        size_t need = rec->len + 16;

        if (c->len + need + 1 > c->cap) {
                c->cap = (c->len + need + 1) * 2;
                c->text = realloc(c->text, c->cap);
                assert_non_null(c->text);
        }
        c->len += (size_t)sprintf(c->text + c->len, "%s %c ", ctrlog_stream_name(rec->stream),
                                  rec->partial ? 'P' : 'F');
        memcpy(c->text + c->len, rec->msg, rec->len);
        c->len += rec->len;
        c->text[c->len++] = '\n';
        c->text[c->len] = '\0';
        c->n++;
        return 0;
}

static void read_all(enum ctrlog_driver d, const struct ctrlog_read_opts *o, struct collect *c)
{
        _cleanup_berr_ struct berr *e = NULL;
        struct ctrlog_read_opts def = {.driver = d, .tail = -1};

        if (ctrlog_read(logpath, o ? o : &def, collect_fn, c, &e) < 0)
                fail_msg("%s", e->msg);
        if (!c->text)
                c->text = strdup("");
}

static void test_k8s_lines_and_partials(void **state)
{
        struct ctrlog_writer *w = open_writer(CTRLOG_K8S_FILE, 0, 1);
        _cleanup_free_ char *text = NULL;

        put(w, CTRLOG_STDOUT, "a\nb\n", T0);
        put(w, CTRLOG_STDERR, "abc", T0);
        put(w, CTRLOG_STDERR, "def\n\n", T0);
        ctrlog_writer_free(w);
        text = slurp(logpath);
        assert_string_equal(text, T0_S " stdout F a\n" T0_S " stdout F b\n" T0_S " stderr P abc\n" T0_S
                                       " stderr F def\n" T0_S " stderr F \n");
}

static void test_k8s_long_line_split(void **state)
{
        struct ctrlog_writer *w = open_writer(CTRLOG_K8S_FILE, 0, 1);
        _cleanup_free_ char *line = malloc(40002), *text = NULL;
        struct collect c = {0};
        char *p, *q;
        size_t records = 0, total = 0;

        memset(line, 'x', 40000);
        strcpy(line + 40000, "\n");
        put(w, CTRLOG_STDOUT, line, T0);
        ctrlog_writer_free(w);
        text = slurp(logpath);
        /* Fixed buffers: several records, each bounded, all partial but the last. */
        for (p = text; *p; p = q + 1) {
                q = strchr(p, '\n');
                assert_non_null(q);
                assert_true(q - p <= 16 * 1024);
                records++;
                assert_int_equal(p[strlen(T0_S) + 8], q[1] ? 'P' : 'F');
                total += (size_t)(q - p) - strlen(T0_S " stdout P ");
        }
        assert_true(records >= 3);
        assert_int_equal(total, 40000);
        read_all(CTRLOG_K8S_FILE, NULL, &c);
        assert_int_equal(c.n, records);
        free(c.text);
}

static void test_json_escaping(void **state)
{
        struct ctrlog_writer *w = open_writer(CTRLOG_JSON_FILE, 0, 1);
        _cleanup_free_ char *text = NULL;

        put(w, CTRLOG_STDOUT, "a\"b\\c\t\x01\xc3\xa9\n", T0);
        put(w, CTRLOG_STDERR, "no newline", T0);
        ctrlog_writer_free(w);
        text = slurp(logpath);
        assert_string_equal(
            text,
            "{\"log\":\"a\\\"b\\\\c\\t\\u0001\xc3\xa9\\n\",\"stream\":\"stdout\",\"time\":\"" T0_S "\"}\n"
            "{\"log\":\"no newline\",\"stream\":\"stderr\",\"time\":\"" T0_S "\"}\n");
}

static void test_json_invalid_utf8(void **state)
{
        struct ctrlog_writer *w = open_writer(CTRLOG_JSON_FILE, 0, 1);
        _cleanup_free_ char *text = NULL;

        /* A stray continuation byte, a lead byte cut by '(', an overlong form (C0). */
        put(w, CTRLOG_STDOUT, "\x80\xc3(\xc0\xaf\n", T0);
        ctrlog_writer_free(w);
        text = slurp(logpath);
        assert_string_equal(
            text,
            "{\"log\":\"\\ufffd\\ufffd(\\ufffd\\ufffd\\n\",\"stream\":\"stdout\",\"time\":\"" T0_S "\"}\n");
}

static void test_json_utf8_across_chunks(void **state)
{
        struct ctrlog_writer *w = open_writer(CTRLOG_JSON_FILE, 0, 1);
        _cleanup_berr_ struct berr *e = NULL;
        _cleanup_free_ char *text = NULL;

        /* The euro sign in two reads: nothing is written until it is whole. */
        put(w, CTRLOG_STDOUT, "\xe2\x82", T0);
        text = slurp(logpath);
        assert_string_equal(text, "");
        free(TAKE_PTR(text));
        put(w, CTRLOG_STDOUT, "\xac\n", T0);
        /* A sequence left open at the end becomes U+FFFD in a partial record. */
        put(w, CTRLOG_STDERR, "x\xf0\x9f", T0);
        assert_int_equal(ctrlog_flush(w, T0, &e), 0);
        ctrlog_writer_free(w);
        text = slurp(logpath);
        assert_string_equal(text,
                            "{\"log\":\"\xe2\x82\xac\\n\",\"stream\":\"stdout\",\"time\":\"" T0_S "\"}\n"
                            "{\"log\":\"x\",\"stream\":\"stderr\",\"time\":\"" T0_S "\"}\n"
                            "{\"log\":\"\\ufffd\\ufffd\",\"stream\":\"stderr\",\"time\":\"" T0_S "\"}\n");
}

static void test_roundtrip_both_formats(void **state)
{
        enum ctrlog_driver drivers[] = {CTRLOG_K8S_FILE, CTRLOG_JSON_FILE};

        for (size_t i = 0; i < ARRAY_SIZE(drivers); i++) {
                struct ctrlog_writer *w;
                struct collect c = {0};

                unlink(logpath);
                w = open_writer(drivers[i], 0, 1);
                put(w, CTRLOG_STDOUT, "one\ntw", T0);
                put(w, CTRLOG_STDERR, "err \"quoted\"\n", T0 + 1);
                put(w, CTRLOG_STDOUT, "o\n\nthree", T0 + 2);
                ctrlog_writer_free(w);
                read_all(drivers[i], NULL, &c);
                assert_string_equal(c.text, "stdout F one\nstdout P tw\nstderr F err \"quoted\"\nstdout F o\n"
                                            "stdout F \nstdout P three\n");
                free(c.text);
        }
}

static void write_lines(struct ctrlog_writer *w, int from, int to)
{
        char line[64];

        for (int i = from; i < to; i++) {
                snprintf(line, sizeof(line), "line %d\n", i);
                put(w, CTRLOG_STDOUT, line, T0 + i);
        }
}

static off_t file_size(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_rotation_keeps_n_files(void **state)
{
        struct ctrlog_writer *w = open_writer(CTRLOG_K8S_FILE, 200, 3);
        struct collect c = {0};
        char p1[160], p2[160], p3[160], expect[64];
        int first;

        write_lines(w, 0, 50);
        ctrlog_writer_free(w);
        snprintf(p1, sizeof(p1), "%s.1", logpath);
        snprintf(p2, sizeof(p2), "%s.2", logpath);
        snprintf(p3, sizeof(p3), "%s.3", logpath);
        assert_true(file_size(logpath) > 0 && file_size(logpath) <= 200);
        assert_true(file_size(p1) > 0 && file_size(p1) <= 200);
        assert_true(file_size(p2) > 0 && file_size(p2) <= 200);
        assert_int_equal(file_size(p3), -1);
        /* The three files hold the newest lines, in order, with no gap. */
        read_all(CTRLOG_K8S_FILE, NULL, &c);
        first = 50 - (int)c.n;
        assert_true(c.n >= 9 && first > 0);
        for (int i = first; i < 50; i++) {
                snprintf(expect, sizeof(expect), "stdout F line %d\n", i);
                assert_non_null(strstr(c.text, expect));
        }
        snprintf(expect, sizeof(expect), "stdout F line %d\n", first - 1);
        assert_null(strstr(c.text, expect));
        free(c.text);
}

static void test_rotation_single_file_truncates(void **state)
{
        struct ctrlog_writer *w = open_writer(CTRLOG_JSON_FILE, 300, 1);
        struct collect c = {0};
        char p1[160];

        write_lines(w, 0, 40);
        ctrlog_writer_free(w);
        snprintf(p1, sizeof(p1), "%s.1", logpath);
        assert_int_equal(file_size(p1), -1);
        assert_true(file_size(logpath) <= 300);
        read_all(CTRLOG_JSON_FILE, NULL, &c);
        assert_true(c.n >= 1);
        assert_non_null(strstr(c.text, "stdout F line 39\n"));
        assert_null(strstr(c.text, "stdout F line 0\n"));
        free(c.text);
}

static void test_tail_across_files(void **state)
{
        struct ctrlog_writer *w = open_writer(CTRLOG_K8S_FILE, 150, 5);
        struct ctrlog_read_opts o = {.driver = CTRLOG_K8S_FILE};
        char p1[160];
        int fd;

        write_lines(w, 0, 12);
        ctrlog_writer_free(w);
        snprintf(p1, sizeof(p1), "%s.1", logpath);
        assert_true(file_size(p1) > 0);
        /* A record being written (no newline yet) is not a line to count or show. */
        fd = open(logpath, O_WRONLY | O_APPEND | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, T0_S " stdout F half", strlen(T0_S " stdout F half")), 0);
        close(fd);

        long tails[] = {0, 1, 4, 12, 100};
        const char *expect[] = {
            "",
            "stdout F line 11\n",
            "stdout F line 8\nstdout F line 9\nstdout F line 10\nstdout F line 11\n",
            NULL,
            NULL,
        };
        for (size_t i = 0; i < ARRAY_SIZE(tails); i++) {
                struct collect c = {0};
                o.tail = tails[i];
                read_all(CTRLOG_K8S_FILE, &o, &c);
                if (expect[i])
                        assert_string_equal(c.text, expect[i]);
                else
                        assert_true(strneq(c.text, "stdout F line 0\n", 16) && c.n == 12);
                free(c.text);
        }
}

static void test_since_until(void **state)
{
        struct ctrlog_writer *w = open_writer(CTRLOG_JSON_FILE, 0, 1);
        struct ctrlog_read_opts o = {.driver = CTRLOG_JSON_FILE, .tail = -1};
        struct collect c = {0};

        put(w, CTRLOG_STDOUT, "old\n", T0);
        put(w, CTRLOG_STDOUT, "mid\n", T0 + 10 * SEC);
        put(w, CTRLOG_STDOUT, "new\n", T0 + 20 * SEC);
        ctrlog_writer_free(w);
        o.since_ns = T0 + 5 * SEC;
        o.until_ns = T0 + 10 * SEC;
        read_all(CTRLOG_JSON_FILE, &o, &c);
        assert_string_equal(c.text, "stdout F mid\n");
        free(c.text);
}

static bool follow_step(void *userdata)
{
        struct collect *c = userdata;
        char line[64];

        /* Each time the reader runs dry, the writer does a bit more. */
        switch (c->step++) {
        case 0:
                put(c->w, CTRLOG_STDOUT, "after start\n", T0);
                return false;
        case 1:
                /* Enough to rotate more than once. */
                for (int i = 0; i < 6; i++) {
                        snprintf(line, sizeof(line), "rotated %d\n", i);
                        put(c->w, CTRLOG_STDOUT, line, T0);
                }
                return false;
        case 2:
                put(c->w, CTRLOG_STDERR, "last\n", T0);
                return false;
        default:
                return true;
        }
}

static void test_follow_across_rotation(void **state)
{
        struct collect c = {0};
        struct ctrlog_read_opts o = {
            .driver = CTRLOG_K8S_FILE, .tail = 1, .follow = true, .done = follow_step};
        _cleanup_berr_ struct berr *e = NULL;

        c.w = open_writer(CTRLOG_K8S_FILE, 100, 4);
        put(c.w, CTRLOG_STDOUT, "before 1\nbefore 2\n", T0);
        assert_int_equal(ctrlog_read(logpath, &o, collect_fn, &c, &e), 0);
        ctrlog_writer_free(c.w);
        /* Rotated several times between two looks: the reader walks the rotated files in order. */
        assert_string_equal(c.text, "stdout F before 2\nstdout F after start\nstdout F rotated 0\n"
                                    "stdout F rotated 1\nstdout F rotated 2\nstdout F rotated 3\n"
                                    "stdout F rotated 4\nstdout F rotated 5\nstderr F last\n");
        assert_true(c.step >= 4);
        free(c.text);
}

static void test_record_parse_errors(void **state)
{
        const char *bad_k8s[] = {
            "garbage",
            "2023-11-14T22:13:20Z stdout",
            "2023-11-14T22:13:20Z stdin F x",
            "2023-11-14T22:13:20Z stdout X x",
            "2023-13-14T22:13:20Z stdout F x",
        };
        const char *bad_json[] = {
            "{\"log\":\"x\",\"stream\":\"stdout\"}",
            "{\"log\":1,\"stream\":\"stdout\",\"time\":\"" T0_S "\"}",
            "{\"log\":\"x\",\"stream\":\"other\",\"time\":\"" T0_S "\"}",
            "[1]",
            "{\"log\":\"x\"",
        };
        struct ctrlog_record rec;
        char buf[256];

        for (size_t i = 0; i < ARRAY_SIZE(bad_k8s); i++) {
                _cleanup_berr_ struct berr *e = NULL;
                snprintf(buf, sizeof(buf), "%s", bad_k8s[i]);
                assert_true(ctrlog_parse_record(CTRLOG_K8S_FILE, buf, strlen(buf), &rec, &e) < 0);
                assert_non_null(e);
        }
        for (size_t i = 0; i < ARRAY_SIZE(bad_json); i++) {
                _cleanup_berr_ struct berr *e = NULL;
                snprintf(buf, sizeof(buf), "%s", bad_json[i]);
                assert_true(ctrlog_parse_record(CTRLOG_JSON_FILE, buf, strlen(buf), &rec, &e) < 0);
                assert_non_null(e);
        }
        /* The kubelet's extra tags after ':' and an empty message. */
        snprintf(buf, sizeof(buf), "2023-11-14T22:13:20+01:00 stderr P:x");
        assert_int_equal(ctrlog_parse_record(CTRLOG_K8S_FILE, buf, strlen(buf), &rec, NULL), 0);
        assert_true(rec.partial);
        assert_int_equal(rec.stream, CTRLOG_STDERR);
        assert_int_equal(rec.len, 0);
        assert_int_equal(rec.time_ns, (1700000000LL - 3600) * SEC);
}

static void test_parse_rfc3339(void **state)
{
        int64_t ns;

        assert_int_equal(ctrlog_parse_rfc3339(T0_S, strlen(T0_S), &ns), 0);
        assert_int_equal(ns, T0);
        assert_int_equal(ctrlog_parse_rfc3339("1970-01-01T00:00:00Z", 20, &ns), 0);
        assert_int_equal(ns, 0);
        assert_int_equal(ctrlog_parse_rfc3339("2024-02-29T12:00:00.5-02:30", 27, &ns), 0);
        assert_int_equal(ns, (1709208000LL + 9000) * SEC + SEC / 2);
        assert_int_equal(ctrlog_parse_rfc3339("2023-02-29T00:00:00Z", 20, &ns), -EINVAL);
        assert_int_equal(ctrlog_parse_rfc3339("2023-01-01T24:00:00Z", 20, &ns), -EINVAL);
        assert_int_equal(ctrlog_parse_rfc3339("2023-01-01T00:00:00", 19, &ns), -EINVAL);
        assert_int_equal(ctrlog_parse_rfc3339("2023-01-01T00:00:00.Z", 21, &ns), -EINVAL);
        assert_int_equal(ctrlog_parse_rfc3339("2023-01-01 00:00:00Z", 20, &ns), -EINVAL);
}

static void test_parse_since(void **state)
{
        const int64_t now = T0;
        struct tm tm = {.tm_year = 124, .tm_mon = 0, .tm_mday = 2, .tm_hour = 3, .tm_min = 4, .tm_isdst = -1};
        int64_t v;

        assert_int_equal(ctrlog_parse_since("10m", now, &v, NULL), 0);
        assert_int_equal(v, now - 600 * SEC);
        assert_int_equal(ctrlog_parse_since("1h30m", now, &v, NULL), 0);
        assert_int_equal(v, now - 5400 * SEC);
        assert_int_equal(ctrlog_parse_since("1.5h", now, &v, NULL), 0);
        assert_int_equal(v, now - 5400 * SEC);
        assert_int_equal(ctrlog_parse_since("250ms", now, &v, NULL), 0);
        assert_int_equal(v, now - SEC / 4);
        assert_int_equal(ctrlog_parse_since("1700000000", now, &v, NULL), 0);
        assert_int_equal(v, 1700000000LL * SEC);
        assert_int_equal(ctrlog_parse_since("1700000000.25", now, &v, NULL), 0);
        assert_int_equal(v, 1700000000LL * SEC + SEC / 4);
        assert_int_equal(ctrlog_parse_since("0", now, &v, NULL), 0);
        assert_int_equal(v, 0);
        assert_int_equal(ctrlog_parse_since(T0_S, now, &v, NULL), 0);
        assert_int_equal(v, T0);
        assert_int_equal(ctrlog_parse_since("2023-11-14T22:13Z", now, &v, NULL), 0);
        assert_int_equal(v, 1699999980LL * SEC);
        assert_int_equal(ctrlog_parse_since("2023-11-14+01:00", now, &v, NULL), 0);
        assert_int_equal(v, (1699920000LL - 3600) * SEC);
        /* Without a zone: local time. */
        assert_int_equal(ctrlog_parse_since("2024-01-02T03:04", now, &v, NULL), 0);
        assert_int_equal(v, (int64_t)mktime(&tm) * SEC);

        const char *bad[] = {"", "10x", "yesterday", "2023-11-14T", "2023-11-14T22:1", "1.2.3", "5m3"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                _cleanup_berr_ struct berr *e = NULL;
                assert_int_equal(ctrlog_parse_since(bad[i], now, &v, &e), -EINVAL);
                if (!strstr(e->msg, bad[i]))
                        fail_msg("error `%s` does not name `%s`", e->msg, bad[i]);
        }
}

static void test_parse_tail(void **state)
{
        _cleanup_berr_ struct berr *e = NULL;
        long v;

        assert_int_equal(ctrlog_parse_tail("all", &v, NULL), 0);
        assert_int_equal(v, -1);
        assert_int_equal(ctrlog_parse_tail("0", &v, NULL), 0);
        assert_int_equal(v, 0);
        assert_int_equal(ctrlog_parse_tail("25", &v, NULL), 0);
        assert_int_equal(v, 25);
        assert_int_equal(ctrlog_parse_tail("-3", &v, &e), -EINVAL);
        assert_non_null(strstr(e->msg, "-3"));
        assert_int_equal(ctrlog_parse_tail("99999999999999999999", &v, NULL), -EINVAL);
}

static void test_attach_framing(void **state)
{
        uint8_t stream[256], resize[4] = {0, 24, 0, 80};
        size_t len = 0;
        struct attach_decoder d = {0};
        char data[64] = "";
        size_t data_len = 0;
        int controls = 0, ends = 0;

        len += attach_frame(stream + len, ATTACH_STDIN, "hello ", 6);
        len += attach_frame(stream + len, ATTACH_RESIZE, resize, 4);
        len += attach_frame(stream + len, ATTACH_STDIN, "", 0);
        len += attach_frame(stream + len, ATTACH_STDIN, "world", 5);
        len += attach_frame(stream + len, ATTACH_CLOSE_STDIN, NULL, 0);
        assert_int_equal(stream[0], ATTACH_STDIN);
        assert_memory_equal(stream + 4, "\0\0\0\6", 4);

        /* Fed one byte at a time, data arrives in pieces and controls whole. */
        for (size_t i = 0; i < len;) {
                struct attach_piece p;
                bool have;
                ssize_t n = attach_decode(&d, stream + i, 1, &p, &have, NULL);
                assert_true(n == 1);
                i += (size_t)n;
                if (!have)
                        continue;
                ends += p.end;
                if (p.type == ATTACH_STDIN) {
                        memcpy(data + data_len, p.data, p.len);
                        data_len += p.len;
                } else if (p.type == ATTACH_RESIZE) {
                        assert_int_equal(p.len, 4);
                        assert_memory_equal(p.data, resize, 4);
                        controls++;
                } else {
                        assert_int_equal(p.type, ATTACH_CLOSE_STDIN);
                        controls++;
                }
        }
        assert_int_equal(data_len, 11);
        assert_memory_equal(data, "hello world", 11);
        assert_int_equal(controls, 2);
        assert_int_equal(ends, 5);

        /* Fed at once, a data frame comes out as one piece pointing into the input. */
        memset(&d, 0, sizeof(d));
        struct attach_piece p;
        bool have;
        assert_int_equal(attach_decode(&d, stream, len, &p, &have, NULL), 14);
        assert_true(have && p.end && p.len == 6 && p.data == stream + 8);
}

static void expect_proto_error(const uint8_t hdr[8], const char *fragment)
{
        _cleanup_berr_ struct berr *e = NULL;
        struct attach_decoder d = {0};
        struct attach_piece p;
        bool have;

        assert_int_equal(attach_decode(&d, hdr, 8, &p, &have, &e), -EPROTO);
        if (!strstr(e->msg, fragment))
                fail_msg("error `%s` does not mention `%s`", e->msg, fragment);
}

static void test_attach_framing_errors(void **state)
{
        uint8_t hdr[8];

        attach_header(hdr, 42, 0);
        expect_proto_error(hdr, "unknown type 42");
        attach_header(hdr, ATTACH_STDIN, 1);
        hdr[2] = 1;
        expect_proto_error(hdr, "reserved");
        attach_header(hdr, ATTACH_RESIZE, 3);
        expect_proto_error(hdr, "resize frame has 3 bytes instead of 4");
        attach_header(hdr, ATTACH_ERROR, ATTACH_MAX_CONTROL + 1);
        expect_proto_error(hdr, "larger than the limit");
        attach_header(hdr, ATTACH_STDOUT, ATTACH_MAX_DATA + 1);
        expect_proto_error(hdr, "larger than the limit");
}

static void test_state_roundtrip(void **state)
{
        _cleanup_close_ int dirfd = open(tmpdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_berr_ struct berr *e = NULL;
        struct monitor_state in = {
            .status = MONITOR_RESTARTING,
            .pid = 0,
            .monitor_pid = 1234,
            .monitor_start_time = 98765,
            .started_ns = T0,
            .has_exit = true,
            .exit_code = 137,
            .exit_signal = 9,
            .oom_killed = true,
            .exited_ns = T0 + SEC,
            .restart_count = 3,
            .error = (char *)"restart: \"quoted\"",
        };
        struct monitor_state out;

        assert_int_equal(monitor_state_write(dirfd, &in, &e), 0);
        assert_int_equal(monitor_state_read(tmpdir, &out, &e), 0);
        assert_int_equal(out.status, MONITOR_RESTARTING);
        assert_int_equal(out.monitor_pid, 1234);
        assert_int_equal(out.monitor_start_time, 98765);
        assert_int_equal(out.started_ns, T0);
        assert_true(out.has_exit && out.oom_killed);
        assert_int_equal(out.exit_code, 137);
        assert_int_equal(out.exit_signal, 9);
        assert_int_equal(out.exited_ns, T0 + SEC);
        assert_int_equal(out.restart_count, 3);
        assert_string_equal(out.error, "restart: \"quoted\"");
        monitor_state_clear(&out);

        in = (struct monitor_state){.status = MONITOR_RUNNING, .pid = 42};
        assert_int_equal(monitor_state_write(dirfd, &in, &e), 0);
        assert_int_equal(monitor_state_read(tmpdir, &out, &e), 0);
        assert_int_equal(out.pid, 42);
        assert_false(out.has_exit);
        assert_null(out.error);

        assert_int_equal(
            write_file_at(dirfd, MONITOR_STATE_FILE, "{\"status\":\"dancing\"}", 20, O_TRUNC, 0600, &e), 0);
        assert_true(monitor_state_read(tmpdir, &out, &e) < 0);
        assert_non_null(strstr(e->msg, "dancing"));
}

static void test_lock_and_probe(void **state)
{
        _cleanup_close_ int dirfd = open(tmpdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_berr_ struct berr *e = NULL;
        int lock;

        assert_int_equal(monitor_probe(tmpdir, NULL), 0);
        lock = monitor_lock(dirfd, &e);
        assert_true(lock >= 0);
        /* Probing only asks: it never takes the lock itself. */
        assert_int_equal(monitor_probe(tmpdir, NULL), 1);
        assert_int_equal(monitor_probe(tmpdir, NULL), 1);
        assert_int_equal(monitor_lock(dirfd, &e), -EBUSY);
        assert_non_null(strstr(e->msg, "another monitor"));
        close(lock);
        assert_int_equal(monitor_probe(tmpdir, NULL), 0);
}

static void test_restart_policy_parse(void **state)
{
        struct restart_policy p;

        assert_int_equal(restart_policy_parse("no", &p, NULL), 0);
        assert_int_equal(p.mode, RESTART_NO);
        assert_int_equal(restart_policy_parse("always", &p, NULL), 0);
        assert_int_equal(p.mode, RESTART_ALWAYS);
        assert_int_equal(restart_policy_parse("on-failure", &p, NULL), 0);
        assert_true(p.mode == RESTART_ON_FAILURE && p.max_retries == 0);
        assert_int_equal(restart_policy_parse("on-failure:5", &p, NULL), 0);
        assert_true(p.mode == RESTART_ON_FAILURE && p.max_retries == 5);
        assert_int_equal(restart_policy_parse("on-failure:", &p, NULL), -EINVAL);
        assert_int_equal(restart_policy_parse("on-failure:-1", &p, NULL), -EINVAL);
        assert_int_equal(restart_policy_parse("on-failurex", &p, NULL), -EINVAL);
        assert_int_equal(restart_policy_parse("sometimes", &p, NULL), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_k8s_lines_and_partials, setup_tmp, teardown_tmp),
            cmocka_unit_test_setup_teardown(test_k8s_long_line_split, setup_tmp, teardown_tmp),
            cmocka_unit_test_setup_teardown(test_json_escaping, setup_tmp, teardown_tmp),
            cmocka_unit_test_setup_teardown(test_json_invalid_utf8, setup_tmp, teardown_tmp),
            cmocka_unit_test_setup_teardown(test_json_utf8_across_chunks, setup_tmp, teardown_tmp),
            cmocka_unit_test_setup_teardown(test_roundtrip_both_formats, setup_tmp, teardown_tmp),
            cmocka_unit_test_setup_teardown(test_rotation_keeps_n_files, setup_tmp, teardown_tmp),
            cmocka_unit_test_setup_teardown(test_rotation_single_file_truncates, setup_tmp, teardown_tmp),
            cmocka_unit_test_setup_teardown(test_tail_across_files, setup_tmp, teardown_tmp),
            cmocka_unit_test_setup_teardown(test_since_until, setup_tmp, teardown_tmp),
            cmocka_unit_test_setup_teardown(test_follow_across_rotation, setup_tmp, teardown_tmp),
            cmocka_unit_test(test_record_parse_errors),
            cmocka_unit_test(test_parse_rfc3339),
            cmocka_unit_test(test_parse_since),
            cmocka_unit_test(test_parse_tail),
            cmocka_unit_test(test_attach_framing),
            cmocka_unit_test(test_attach_framing_errors),
            cmocka_unit_test_setup_teardown(test_state_roundtrip, setup_tmp, teardown_tmp),
            cmocka_unit_test_setup_teardown(test_lock_and_probe, setup_tmp, teardown_tmp),
            cmocka_unit_test(test_restart_policy_parse),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
