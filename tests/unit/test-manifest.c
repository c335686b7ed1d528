/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "image/manifest.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static const char oci_manifest[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\","
        "\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"" D1 "\",\"size\":100},"
        "\"layers\":[{\"mediaType\":\"" MT_OCI_LAYER_GZIP "\",\"digest\":\"" D2 "\",\"size\":2000},"
        "{\"mediaType\":\"" MT_OCI_LAYER_ZSTD "\",\"digest\":\"" D3 "\",\"size\":3000,\"urls\":[\"http://x\"]}]}";

static const char docker_list[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_LIST "\",\"manifests\":["
        "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":5,"
        "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v6\"}},"
        "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":5,"
        "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
        "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" D3 "\",\"size\":5,"
        "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}";

static int parse(const char *doc, const char *ct, struct manifest **m, struct berr **err)
{
        return manifest_parse(doc, strlen(doc), ct, m, err);
}

static void expect_fail(const char *doc, const char *ct, const char *part)
{
        _cleanup_manifest_ struct manifest *m = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        if (parse(doc, ct, &m, &err) == 0)
                fail_msg("parsed: %s", doc);
        if (!strstr(err->msg, part))
                fail_msg("message `%s` lacks `%s`", err->msg, part);
}

static void test_oci_manifest(void **state)
{
        _cleanup_manifest_ struct manifest *m = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        assert_int_equal(parse(oci_manifest, MT_OCI_MANIFEST "; charset=utf-8", &m, &err), 0);
        assert_int_equal(m->kind, MANIFEST_IMAGE);
        assert_string_equal(m->config.digest, D1);
        assert_int_equal(m->config.size, 100);
        assert_int_equal(m->n_layers, 2);
        assert_string_equal(m->layers[1].media_type, MT_OCI_LAYER_ZSTD);
        assert_string_equal(m->layers[1].urls[0], "http://x");
        manifest_free(m);
        m = NULL;
        /* No or a generic content type: the document's mediaType decides. */
        assert_int_equal(parse(oci_manifest, "application/json", &m, &err), 0);
        assert_string_equal(m->media_type, MT_OCI_MANIFEST);
}

static void test_shape_sniffing(void **state)
{
        _cleanup_manifest_ struct manifest *m = NULL, *i = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        assert_int_equal(parse("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1
                               "\",\"size\":1},\"layers\":[]}",
                               NULL, &m, &err),
                         0);
        assert_int_equal(m->kind, MANIFEST_IMAGE);
        assert_int_equal(m->n_layers, 0);
        assert_int_equal(parse("{\"schemaVersion\":2,\"manifests\":[]}", NULL, &i, &err), 0);
        assert_int_equal(i->kind, MANIFEST_INDEX);
        assert_string_equal(i->media_type, MT_OCI_INDEX);
}

static void test_docker_list_and_platforms(void **state)
{
        _cleanup_manifest_ struct manifest *m = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_platform_ struct platform *p = NULL, *q = NULL, *r = NULL, *s = NULL;
        size_t idx;

        assert_int_equal(parse(docker_list, MT_DOCKER_LIST, &m, &err), 0);
        assert_int_equal(m->kind, MANIFEST_INDEX);
        assert_int_equal(m->n_manifests, 3);
        assert_string_equal(m->manifests[0].platform->variant, "v6");

        assert_int_equal(platform_parse("linux/arm64", &p, &err), 0);
        assert_int_equal(manifest_select_platform(m, p, &idx, &err), 0);
        assert_int_equal(idx, 1);
        assert_int_equal(platform_parse("amd64", &q, &err), 0);
        assert_string_equal(q->os, "linux");
        assert_int_equal(manifest_select_platform(m, q, &idx, &err), 0);
        assert_int_equal(idx, 2);
        /* arm64 without variant is v8. */
        assert_int_equal(platform_parse("linux/aarch64/v8", &r, &err), 0);
        assert_string_equal(r->architecture, "arm64");
        assert_int_equal(manifest_select_platform(m, r, &idx, &err), 0);
        assert_int_equal(idx, 1);
        assert_int_equal(platform_parse("linux/s390x", &s, &err), 0);
        assert_true(manifest_select_platform(m, s, &idx, &err) < 0);
        assert_non_null(strstr(err->msg, "linux/s390x"));
        assert_non_null(strstr(err->msg, "linux/arm/v6"));
        berr_freep(&err);
        assert_true(platform_parse("a/b/c/d", &s, &err) < 0);
}

static void test_platform_host(void **state)
{
        _cleanup_platform_ struct platform *p = NULL;
        _cleanup_free_ char *s = NULL;

        assert_int_equal(platform_host(&p, NULL), 0);
        assert_string_equal(p->os, "linux");
        s = platform_string(p);
#if defined(__x86_64__)
        assert_string_equal(s, "linux/amd64");
#endif
}

static void test_rejects(void **state)
{
        char big[64];

        expect_fail("{\"schemaVersion\":1,\"fsLayers\":[]}", NULL, "schema 1");
        expect_fail("{}", MT_DOCKER_V1_SIGNED, "schema 1");
        expect_fail("{\"schemaVersion\":3}", NULL, "schemaVersion 3");
        expect_fail(oci_manifest, MT_DOCKER_MANIFEST, "does not match the content type");
        expect_fail(oci_manifest, "text/html", "unsupported manifest media type");
        expect_fail("[1]", NULL, "expected a JSON object");
        expect_fail("{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[{\"mediaType\":\"x\","
                    "\"digest\":\"sha256:12\",\"size\":1}]}",
                    NULL, "manifests[0].digest");
        expect_fail("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1 "\",\"size\":-1},"
                    "\"layers\":[]}",
                    NULL, "config.size");
        expect_fail("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1 "\"},\"layers\":[]}",
                    NULL, "config.size: required");
        expect_fail("{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"manifests\":[]}", NULL,
                    "must not have `manifests`");
        expect_fail("{\"schemaVersion\":2, \"manifests\":[], \"layers\":[]}", MT_OCI_INDEX, "must not have");
        snprintf(big, sizeof(big), "%s", "{");
        {
                _cleanup_manifest_ struct manifest *m = NULL;
                _cleanup_berr_ struct berr *err = NULL;
                assert_int_equal(manifest_parse(big, MANIFEST_MAX_SIZE + 1, NULL, &m, &err), -EFBIG);
        }
}

static void test_layer_cap(void **state)
{
        _cleanup_free_ char *doc = malloc(200 * 120 + 512);
        size_t n;

        n = (size_t)sprintf(doc, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"%s\",\"size\":1},"
                                 "\"layers\":[",
                            D1);
        for (int i = 0; i <= MANIFEST_MAX_LAYERS; i++)
                n += (size_t)sprintf(doc + n, "%s{\"mediaType\":\"x\",\"digest\":\"%s\",\"size\":1}", i ? "," : "",
                                     D2);
        sprintf(doc + n, "]}");
        expect_fail(doc, NULL, "more than the limit of 128");
}

static const char config_doc[] =
        "{\"created\":\"2024-01-02T03:04:05.5Z\",\"architecture\":\"amd64\",\"os\":\"linux\",\"author\":\"me\","
        "\"config\":{\"User\":\"1000:1000\",\"Env\":[\"PATH=/bin\",\"A=b\"],\"Entrypoint\":[\"/init\"],"
        "\"Cmd\":null,\"WorkingDir\":\"/w\",\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{}},"
        "\"Volumes\":{\"/data\":{}},\"Labels\":{\"k\":\"v\"},\"StopSignal\":\"SIGINT\"},"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]},"
        "\"history\":[{\"created_by\":\"a\"},{\"created_by\":\"b\",\"empty_layer\":true},{\"comment\":\"c\"}]}";

static void test_config(void **state)
{
        _cleanup_image_config_ struct image_config *c = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        if (image_config_parse(config_doc, strlen(config_doc), &c, &err) < 0)
                fail_msg("%s", err->msg);
        assert_string_equal(c->architecture, "amd64");
        assert_string_equal(c->user, "1000:1000");
        assert_string_equal(c->working_dir, "/w");
        assert_string_equal(c->stop_signal, "SIGINT");
        assert_string_equal(c->entrypoint[0], "/init");
        assert_null(c->cmd);
        assert_string_equal(c->env[1], "A=b");
        assert_non_null(c->exposed_ports[1]);
        assert_null(c->exposed_ports[2]);
        assert_string_equal(c->volumes[0], "/data");
        assert_string_equal(c->labels[0], "k");
        assert_string_equal(c->labels[1], "v");
        assert_int_equal(c->n_diff_ids, 2);
        assert_int_equal(c->n_history, 3);
        assert_true(c->history[1].empty_layer);
        assert_int_equal(c->created_ns, 1704164645500000000LL);
}

static void config_fail(const char *doc, const char *part)
{
        _cleanup_image_config_ struct image_config *c = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        if (image_config_parse(doc, strlen(doc), &c, &err) == 0)
                fail_msg("parsed: %s", doc);
        if (!strstr(err->msg, part))
                fail_msg("message `%s` lacks `%s`", err->msg, part);
}

static void test_config_rejects(void **state)
{
        config_fail("{}", "rootfs: required");
        config_fail("{\"rootfs\":{\"type\":\"x\",\"diff_ids\":[]}}", "want `layers`");
        config_fail("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"nope\"]}}", "diff_ids[0]");
        config_fail("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{\"Env\":[1]}}", "config.Env[0]");
        config_fail("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"created\":\"yesterday\"}", "created");
        config_fail("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"history\":[1]}", "history[0]");
}

static void test_rfc3339(void **state)
{
        int64_t ns;

        assert_int_equal(parse_rfc3339("1970-01-01T00:00:00Z", &ns), 0);
        assert_int_equal(ns, 0);
        assert_int_equal(parse_rfc3339("2024-01-01T01:00:00+01:00", &ns), 0);
        assert_int_equal(ns, 1704067200LL * 1000000000LL);
        assert_int_equal(parse_rfc3339("2024-01-01T00:00:00.123456789123Z", &ns), 0);
        assert_int_equal(ns % 1000000000LL, 123456789);
        assert_int_equal(parse_rfc3339("0001-01-01T00:00:00Z", &ns), 0);
        assert_int_equal(ns, 0);
        assert_int_equal(parse_rfc3339("2024-13-01T00:00:00Z", &ns), -EINVAL);
        assert_int_equal(parse_rfc3339("2024-01-01T00:00:00", &ns), -EINVAL);
        assert_int_equal(parse_rfc3339("2024-01-01T00:00:00Zjunk", &ns), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_oci_manifest),  cmocka_unit_test(test_shape_sniffing),
                cmocka_unit_test(test_docker_list_and_platforms), cmocka_unit_test(test_platform_host),
                cmocka_unit_test(test_rejects),       cmocka_unit_test(test_layer_cap),
                cmocka_unit_test(test_config),        cmocka_unit_test(test_config_rejects),
                cmocka_unit_test(test_rfc3339),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
