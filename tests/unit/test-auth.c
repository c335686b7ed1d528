/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "image/auth.h"
#include "image/registries.h"

static char tmpdir[64];

static int setup(void **state)
{
        strcpy(tmpdir, "/tmp/berth-auth-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
        unsetenv("REGISTRY_AUTH_FILE");
        setenv("HOME", tmpdir, 1);
        setenv("XDG_RUNTIME_DIR", tmpdir, 1);
        unsetenv("XDG_CONFIG_HOME");
        return 0;
}

static int teardown(void **state)
{
        assert_int_equal(rm_rf_at(AT_FDCWD, tmpdir, NULL), 0);
        return 0;
}

static void test_www_authenticate(void **state)
{
        struct auth_challenge *c = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        size_t n = 0;

        assert_int_equal(www_authenticate_parse("Bearer realm=\"https://auth.example/token\",service=\"reg\","
                                                "scope=\"repository:a/b:pull\"",
                                                &c, &n, &err),
                         0);
        assert_int_equal(n, 1);
        assert_string_equal(c[0].scheme, "bearer");
        assert_string_equal(auth_challenge_param(&c[0], "realm"), "https://auth.example/token");
        assert_string_equal(auth_challenge_param(&c[0], "scope"), "repository:a/b:pull");
        assert_null(auth_challenge_param(&c[0], "nope"));
        auth_challenges_free(c, n);

        /* Two challenges, token values, escapes, odd spacing and case. */
        assert_int_equal(www_authenticate_parse("BASIC Realm = \"a \\\"q\\\" b\" , Bearer realm=x,  error=invalid_token",
                                                &c, &n, &err),
                         0);
        assert_int_equal(n, 2);
        assert_string_equal(c[0].scheme, "basic");
        assert_string_equal(auth_challenge_param(&c[0], "realm"), "a \"q\" b");
        assert_string_equal(c[1].scheme, "bearer");
        assert_string_equal(auth_challenge_param(&c[1], "realm"), "x");
        assert_string_equal(auth_challenge_param(&c[1], "error"), "invalid_token");
        auth_challenges_free(c, n);
}

static void test_www_authenticate_bad(void **state)
{
        static const char *const bad[] = {"", "   ", "Bearer realm=\"unterminated", "=x", "Bearer realm=\"a\" junk=",
                                          "Bearer realm=\"a\" b=\"c\""};
        char big[WWW_AUTH_MAX_LEN + 10];

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct auth_challenge *c = NULL;
                _cleanup_berr_ struct berr *err = NULL;
                size_t n = 0;
                if (www_authenticate_parse(bad[i], &c, &n, &err) == 0)
                        fail_msg("parsed `%s`", bad[i]);
                assert_non_null(err);
        }
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        {
                struct auth_challenge *c = NULL;
                _cleanup_berr_ struct berr *err = NULL;
                size_t n = 0;
                assert_int_equal(www_authenticate_parse(big, &c, &n, &err), -E2BIG);
        }
}

static void test_basic_roundtrip(void **state)
{
        _cleanup_free_ char *b = auth_encode_basic("user", "p:ss");
        _cleanup_auth_creds_ struct auth_creds *c = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        assert_string_equal(b, "dXNlcjpwOnNz");
        assert_int_equal(auth_decode_basic(b, &c, &err), 0);
        assert_string_equal(c->username, "user");
        assert_string_equal(c->password, "p:ss");
        auth_creds_free(c);
        c = NULL;
        assert_true(auth_decode_basic("bm9jb2xvbg==", &c, &err) < 0); /* "nocolon" */
        berr_freep(&err);
        assert_true(auth_decode_basic("!!!", &c, &err) < 0);
}

static void test_auth_file(void **state)
{
        _cleanup_free_ char *path = NULL, *def = NULL, *docker = NULL, *buf = NULL;
        _cleanup_auth_creds_ struct auth_creds *c = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        size_t len;
        struct stat st;

        assert_int_equal(auth_file_default(&def, &err), 0);
        assert_int_equal(asprintf(&path, "%s/containers/auth.json", tmpdir) > 0, 1);
        assert_string_equal(def, path);
        assert_int_equal(auth_lookup(NULL, "reg.io", "a/b", &c, &err), 0);

        assert_int_equal(auth_store(NULL, "reg.io", "alice", "secret", &err), 0);
        assert_int_equal(auth_store(NULL, "reg.io/team", "bob", "pw2", &err), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(auth_lookup(NULL, "reg.io", "other/x", &c, &err), 1);
        assert_string_equal(c->username, "alice");
        auth_creds_free(c);
        c = NULL;
        /* The most specific key wins. */
        assert_int_equal(auth_lookup(NULL, "reg.io", "team/app", &c, &err), 1);
        assert_string_equal(c->username, "bob");
        auth_creds_free(c);
        c = NULL;
        assert_int_equal(auth_lookup(NULL, "reg.io", "teamx/app", &c, &err), 1);
        assert_string_equal(c->username, "alice");
        auth_creds_free(c);
        c = NULL;

        /* docker's config.json is read too, with its URL-style keys. */
        assert_int_equal(asprintf(&docker, "%s/.docker", tmpdir) > 0, 1);
        assert_int_equal(mkdir(docker, 0700), 0);
        free(docker);
        assert_int_equal(asprintf(&docker, "%s/.docker/config.json", tmpdir) > 0, 1);
        {
                static const char cfg[] = "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"ZDpo\"}}}";
                assert_int_equal(write_file_at(AT_FDCWD, docker, cfg, strlen(cfg), O_CREAT | O_TRUNC, 0600, &err), 0);
        }
        assert_int_equal(auth_lookup(NULL, "docker.io", "library/busybox", &c, &err), 1);
        assert_string_equal(c->username, "d");
        auth_creds_free(c);
        c = NULL;

        assert_int_equal(auth_remove(NULL, "reg.io/team", &err), 1);
        assert_int_equal(auth_remove(NULL, "reg.io/team", &err), 0);
        assert_int_equal(auth_lookup(NULL, "reg.io", "team/app", &c, &err), 1);
        assert_string_equal(c->username, "alice");
        assert_int_equal(auth_remove(NULL, NULL, &err), 1);
        assert_int_equal(read_file_at(AT_FDCWD, path, 4096, &buf, &len, &err), 0);
        assert_null(strstr(buf, "alice"));

        /* A broken file is an error that names it, not "no credentials". */
        assert_int_equal(write_file_at(AT_FDCWD, path, "{", 1, O_TRUNC, 0600, &err), 0);
        auth_creds_free(c);
        c = NULL;
        assert_true(auth_lookup(NULL, "reg.io", "x", &c, &err) < 0);
        assert_non_null(strstr(err->msg, "auth.json"));
}

static void test_registries_conf(void **state)
{
        static const char conf[] =
                "# comment\n"
                "unqualified-search-registries = [\"docker.io\", 'quay.io']\n"
                "short-name-mode = \"enforcing\"\n"
                "[[registry]]\n"
                "prefix = \"docker.io\"\n"
                "location = \"registry-1.docker.io\"\n"
                "[[registry.mirror]]\n"
                "location = \"mirror.local:5000/hub\"\n"
                "insecure = true\n"
                "[[registry.mirror]]\n"
                "location = \"mirror2.local\"\n"
                "\n"
                "[[registry]]\n"
                "location = \"insecure.local:5000\"  # trailing comment\n"
                "insecure = true\n"
                "[[registry]]\n"
                "prefix = \"*.blocked.io\"\n"
                "blocked = true\n"
                "[[registry]]\n"
                "prefix = \"src.io/team\"\n"
                "location = \"dst.io/mirror/team\"\n"
                "[registries.insecure]\n"
                "registries = [\n  \"old.local\",\n]\n";
        _cleanup_registries_conf_ struct registries_conf *c = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct registry_endpoint *e = NULL;
        size_t n = 0;

        if (registries_conf_parse(conf, strlen(conf), "test.conf", &c, &err) < 0)
                fail_msg("%s", err->msg);
        assert_int_equal(c->n_regs, 5);
        assert_string_equal(c->search[1], "quay.io");
        assert_true(registries_conf_insecure(c, "insecure.local:5000"));
        assert_true(registries_conf_insecure(c, "mirror.local:5000"));
        assert_true(registries_conf_insecure(c, "old.local"));
        assert_false(registries_conf_insecure(c, "docker.io"));

        assert_int_equal(registries_conf_endpoints(c, "docker.io", "library/busybox", true, &e, &n, &err), 0);
        assert_int_equal(n, 3);
        assert_string_equal(e[0].domain, "mirror.local:5000");
        assert_string_equal(e[0].path, "hub/library/busybox");
        assert_true(e[0].insecure && e[0].mirror);
        assert_string_equal(e[1].domain, "mirror2.local");
        assert_string_equal(e[2].domain, "registry-1.docker.io");
        assert_false(e[2].mirror);
        registry_endpoints_free(e, n);
        /* Pushes skip mirrors. */
        assert_int_equal(registries_conf_endpoints(c, "docker.io", "library/busybox", false, &e, &n, &err), 0);
        assert_int_equal(n, 1);
        registry_endpoints_free(e, n);
        assert_int_equal(registries_conf_endpoints(c, "src.io", "team/app", true, &e, &n, &err), 0);
        assert_string_equal(e[0].domain, "dst.io");
        assert_string_equal(e[0].path, "mirror/team/app");
        registry_endpoints_free(e, n);
        assert_int_equal(registries_conf_endpoints(c, "src.io", "teamx/app", true, &e, &n, &err), 0);
        assert_string_equal(e[0].domain, "src.io");
        registry_endpoints_free(e, n);
        assert_true(registries_conf_endpoints(c, "x.blocked.io", "a", true, &e, &n, &err) < 0);
        assert_non_null(strstr(err->msg, "blocked"));
}

static void conf_fail(const char *text, const char *part)
{
        _cleanup_registries_conf_ struct registries_conf *c = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        if (registries_conf_parse(text, strlen(text), "t.conf", &c, &err) == 0)
                fail_msg("parsed: %s", text);
        if (!strstr(err->msg, part))
                fail_msg("message `%s` lacks `%s`", err->msg, part);
}

static void test_registries_conf_bad(void **state)
{
        conf_fail("[[registry]]\ninsecure = \"yes\"\n", "t.conf:2: `insecure` must be a boolean");
        conf_fail("a = \"unterminated\n", "t.conf:1: unterminated string");
        conf_fail("a = {x = 1}\n", "inline tables");
        conf_fail("a = \"\"\"x\"\"\"\n", "multi-line");
        conf_fail("[[registry.mirror]]\nlocation=\"x\"\n", "outside a [[registry]]");
        conf_fail("[[registry]]\nprefix=\"a\"\n[[registry.mirror]]\ninsecure=true\n", "has no location");
        conf_fail("[[registry]]\n", "neither location nor prefix");
        conf_fail("a = [1]\n", "only arrays of strings");
        conf_fail("a = 1 2\n", "end of the line");
        conf_fail("[unclosed\n", "expected `]`");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_www_authenticate),
                cmocka_unit_test(test_www_authenticate_bad),
                cmocka_unit_test(test_basic_roundtrip),
                cmocka_unit_test_setup_teardown(test_auth_file, setup, teardown),
                cmocka_unit_test(test_registries_conf),
                cmocka_unit_test(test_registries_conf_bad),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
