/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "image/reference.h"

static void check(const char *in, const char *domain, const char *path, const char *tag, const char *digest)
{
        _cleanup_image_ref_ struct image_ref *r = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        if (image_ref_parse(in, &r, &err) < 0)
                fail_msg("%s: %s", in, err->msg);
        assert_string_equal(r->domain, domain);
        assert_string_equal(r->path, path);
        if (tag)
                assert_string_equal(r->tag, tag);
        else
                assert_null(r->tag);
        if (digest)
                assert_string_equal(r->digest, digest);
        else
                assert_null(r->digest);
}

static void bad(const char *in, const char *msg_part)
{
        _cleanup_image_ref_ struct image_ref *r = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        if (image_ref_parse(in, &r, &err) == 0)
                fail_msg("`%s` parsed", in);
        assert_non_null(err);
        if (!strstr(err->msg, msg_part))
                fail_msg("`%s`: message `%s` lacks `%s`", in, err->msg, msg_part);
}

#define D "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_defaults(void **state)
{
        check("busybox", "docker.io", "library/busybox", "latest", NULL);
        check("busybox:1.36", "docker.io", "library/busybox", "1.36", NULL);
        check("user/app", "docker.io", "user/app", "latest", NULL);
        check("docker.io/busybox", "docker.io", "library/busybox", "latest", NULL);
        check("index.docker.io/library/busybox", "docker.io", "library/busybox", "latest", NULL);
}

static void test_registries(void **state)
{
        check("quay.io/a/b/c:v1", "quay.io", "a/b/c", "v1", NULL);
        check("localhost/img", "localhost", "img", "latest", NULL);
        check("localhost:5000/img:t", "localhost:5000", "img", "t", NULL);
        check("127.0.0.1:5000/bench/busybox", "127.0.0.1:5000", "bench/busybox", "latest", NULL);
        check("[::1]:5000/x", "[::1]:5000", "x", "latest", NULL);
        check("Registry.Example/x", "Registry.Example", "x", "latest", NULL);
        /* "localhost:5000" alone is a name with a tag, as docker reads it. */
        check("localhost:5000", "docker.io", "library/localhost", "5000", NULL);
}

static void test_digests(void **state)
{
        check("busybox@" D, "docker.io", "library/busybox", NULL, D);
        check("busybox:1@" D, "docker.io", "library/busybox", "1", D);
        check("h:1/a@" D, "h:1", "a", NULL, D);
}

static void test_separators(void **state)
{
        check("a_b/c__d/e-f/g--h/i.j", "docker.io", "a_b/c__d/e-f/g--h/i.j", "latest", NULL);
        bad("a___b", "bad name component");
        bad("a..b", "bad name component");
        bad("-a", "bad name component");
        bad("a-", "bad name component");
        bad("a//b", "bad name component");
        bad("a/", "bad name component");
}

static void test_invalid(void **state)
{
        char longname[400];

        bad("", "empty");
        bad("Busybox", "lowercase");
        bad("busybox:", "bad tag");
        bad("busybox:-x", "bad tag");
        bad("busybox@sha256:1234", "bad digest");
        bad("busybox@md5:0123456789abcdef0123456789abcdef", "bad digest");
        bad("host:port/x", "bad registry");
        bad("host:123456/x", "bad registry");
        bad("-host.io/x", "bad registry");
        bad("[zz]:5000/x", "bad registry");
        bad("a b", "bad name component");
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        longname[100] = '/';
        bad(longname, "longer than 255");
        {
                char tag[200] = "x:";
                memset(tag + 2, 't', 129);
                tag[131] = '\0';
                bad(tag, "bad tag");
        }
}

static void test_strings(void **state)
{
        _cleanup_image_ref_ struct image_ref *r = NULL, *d = NULL, *repo = NULL;
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *e = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        assert_int_equal(image_ref_parse("busybox:1@" D, &r, &err), 0);
        a = image_ref_string(r);
        b = image_ref_repo(r);
        c = image_ref_name_tag(r);
        assert_string_equal(a, "docker.io/library/busybox:1@" D);
        assert_string_equal(b, "docker.io/library/busybox");
        assert_string_equal(c, "docker.io/library/busybox:1");
        d = image_ref_dup(r);
        assert_string_equal(d->digest, D);
        assert_int_equal(image_ref_parse_repo("quay.io/x", &repo, &err), 0);
        assert_null(repo->tag);
        e = image_ref_string(repo);
        assert_string_equal(e, "quay.io/x");
        assert_int_equal(image_ref_parse_repo("x:1", &repo, &err), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),  cmocka_unit_test(test_registries), cmocka_unit_test(test_digests),
                cmocka_unit_test(test_separators), cmocka_unit_test(test_invalid),   cmocka_unit_test(test_strings),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
