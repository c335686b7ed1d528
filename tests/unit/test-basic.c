/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "basic/timeutil.h"

static char tmpdir[64];

static int setup_tmp(void **state)
{
        strcpy(tmpdir, "/tmp/berth-unit-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
        return 0;
}

static int teardown_tmp(void **state)
{
        assert_int_equal(rm_rf_at(AT_FDCWD, tmpdir, NULL), 0);
        return 0;
}

static void test_error_errno_message(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        int r = berr_make(&err, ENOENT, "open `%s`", "/x");

        assert_int_equal(r, -ENOENT);
        assert_string_equal(err->msg, "open `/x`: No such file or directory");
        /* The first error wins: later ones must not overwrite the cause. */
        berr_make(&err, EPERM, "other");
        assert_int_equal(err->code, ENOENT);
        berr_wrap(&err, "container %s", "c1");
        assert_string_equal(err->msg, "container c1: open `/x`: No such file or directory");
}

static void test_error_null_sink(void **state)
{
        assert_int_equal(berr_make(NULL, 0, "ignored"), -1);
        assert_int_equal(berr_make(NULL, EINVAL, "ignored"), -EINVAL);
}

static void test_path_join_clean(void **state)
{
        _cleanup_free_ char *a = path_join("/a/", "/b"), *b = path_join("/", "x"), *c = path_clean("//a/./b//c/");
        _cleanup_free_ char *d = path_clean("a/../b"), *e = path_clean("/");

        assert_string_equal(a, "/a/b");
        assert_string_equal(b, "/x");
        assert_string_equal(c, "/a/b/c");
        assert_string_equal(d, "a/../b");
        assert_string_equal(e, "/");
        assert_true(path_has_dotdot("/a/../b"));
        assert_true(path_has_dotdot(".."));
        assert_false(path_has_dotdot("/a/..b/c.."));
}

static void test_open_in_root_stays_inside(void **state)
{
        _cleanup_close_ int root = -1, fd = -1;
        char p[128];
        struct stat st;

        snprintf(p, sizeof(p), "%s/root", tmpdir);
        assert_int_equal(mkdir(p, 0755), 0);
        root = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(root >= 0);
        /* A symlink to an absolute host path resolves inside the root. */
        assert_int_equal(symlinkat("/etc", root, "evil"), 0);
        fd = mkdir_p_in_root(root, "/evil/sub/dir", 0755, NULL);
        assert_true(fd >= 0);
        snprintf(p, sizeof(p), "%s/root/etc/sub/dir", tmpdir);
        assert_int_equal(stat(p, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        /* ".." cannot climb out either. */
        close(fd);
        fd = mkmount_target_in_root(root, "/../../../x", true, NULL);
        assert_true(fd >= 0);
        snprintf(p, sizeof(p), "%s/root/x", tmpdir);
        assert_int_equal(stat(p, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        close(fd);
        /* Magic links are refused. */
        fd = openat_in_root(root, "/proc/self/root", O_PATH, 0);
        assert_true(fd < 0);
        fd = -1;
}

static void test_read_write_files(void **state)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_close_ int dfd = open(tmpdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        size_t len;

        assert_int_equal(write_file_atomic_at(dfd, "f", "hello", 5, 0644, &err), 0);
        assert_int_equal(read_file_at(dfd, "f", 100, &buf, &len, &err), 0);
        assert_int_equal(len, 5);
        assert_string_equal(buf, "hello");
        free(TAKE_PTR(buf));
        assert_true(read_file_at(dfd, "f", 3, &buf, &len, &err) < 0);
        assert_int_equal(err->code, EFBIG);
        assert_null(buf);
}

static void test_rm_rf(void **state)
{
        char p[128];
        _cleanup_close_ int dfd = -1;

        snprintf(p, sizeof(p), "%s/tree/a/b", tmpdir);
        assert_int_equal(mkdir_p(p, 0755, NULL), 0);
        dfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(write_file_at(dfd, "file", "x", 1, O_CREAT, 0644, NULL), 0);
        snprintf(p, sizeof(p), "%s/tree", tmpdir);
        assert_int_equal(rm_rf_at(AT_FDCWD, p, NULL), 0);
        assert_int_equal(access(p, F_OK), -1);
        assert_int_equal(rm_rf_at(AT_FDCWD, p, NULL), 0);
}

static void test_strv(void **state)
{
        _cleanup_strv_free_ char **l = NULL;

        assert_int_equal(strv_extend(&l, "A=1"), 0);
        assert_int_equal(strv_extend(&l, "PATH=/bin"), 0);
        assert_int_equal(strv_length(l), 2);
        assert_true(strv_contains(l, "A=1"));
        assert_int_equal(strv_env_find(l, "PATH", 4), 1);
        assert_int_equal(strv_env_find(l, "PAT", 3), -1);
}

static void test_json_typed_getters(void **state)
{
        const char *doc = "{\"s\":\"x\",\"i\":-3,\"u\":18446744073709551615,\"b\":true,\"a\":[\"p\",1]}";
        _cleanup_berr_ struct berr *err = NULL;
        json_object *o = NULL;
        _cleanup_free_ char *s = NULL;
        _cleanup_strv_free_ char **l = NULL;
        int64_t i;
        uint64_t u;
        bool b;

        assert_int_equal(json_parse_buf(doc, strlen(doc), "doc", &o, &err), 0);
        assert_int_equal(json_get_str(o, "", "s", true, &s, &err), 1);
        assert_string_equal(s, "x");
        assert_int_equal(json_get_int64(o, "", "i", -5, 5, &i, &err), 1);
        assert_int_equal(i, -3);
        assert_int_equal(json_get_uint64(o, "", "u", &u, &err), 1);
        assert_true(u == UINT64_MAX);
        assert_int_equal(json_get_bool(o, "", "b", &b, &err), 1);
        assert_int_equal(json_get_str(o, "", "missing", false, &s, &err), 0);
        assert_true(json_get_int64(o, "p", "i", 0, 5, &i, &err) < 0);
        assert_string_equal(err->msg, "p.i: value -3 out of range [0, 5]");
        berr_freep(&err);
        assert_true(json_get_uint64(o, "", "i", &u, &err) < 0);
        berr_freep(&err);
        assert_true(json_get_strv(o, "x", "a", &l, &err) < 0);
        assert_string_equal(err->msg, "x.a[1]: expected a string, got an integer");
        json_object_put(o);
}

static void test_json_rejects_garbage(void **state)
{
        const char *bad[] = {"{", "{\"a\":1} x", "[1,]", ""};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                _cleanup_berr_ struct berr *err = NULL;
                json_object *o = NULL;
                assert_true(json_parse_buf(bad[i], strlen(bad[i]), "doc", &o, &err) < 0);
                assert_non_null(strstr(err->msg, "doc: invalid JSON"));
                assert_null(o);
        }
}

static void test_rfc3339(void **state)
{
        char buf[64];

        assert_string_equal(time_format_rfc3339(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
        assert_string_equal(time_format_rfc3339(1704067200123400000LL, buf, sizeof(buf)),
                            "2024-01-01T00:00:00.1234Z");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_error_errno_message),
                cmocka_unit_test(test_error_null_sink),
                cmocka_unit_test(test_path_join_clean),
                cmocka_unit_test(test_open_in_root_stays_inside),
                cmocka_unit_test(test_read_write_files),
                cmocka_unit_test(test_rm_rf),
                cmocka_unit_test(test_strv),
                cmocka_unit_test(test_json_typed_getters),
                cmocka_unit_test(test_json_rejects_garbage),
                cmocka_unit_test(test_rfc3339),
        };
        return cmocka_run_group_tests_name("basic", tests, setup_tmp, teardown_tmp);
}
