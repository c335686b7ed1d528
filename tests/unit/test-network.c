/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "network/network-internal.h"

static char tmpdir[64];
static struct network_env env;
static char conf_dir[128], state_dir[128], run_dir[128], plugin_dir[128];

static int setup_tmp(void **state)
{
        strcpy(tmpdir, "/tmp/berth-unit-net-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
        snprintf(conf_dir, sizeof(conf_dir), "%s/networks", tmpdir);
        snprintf(state_dir, sizeof(state_dir), "%s/state", tmpdir);
        snprintf(run_dir, sizeof(run_dir), "%s/run", tmpdir);
        snprintf(plugin_dir, sizeof(plugin_dir), "%s/plugins", tmpdir);
        assert_int_equal(mkdir(plugin_dir, 0755), 0);
        env = (struct network_env){
            .config_dir = conf_dir,
            .state_dir = state_dir,
            .run_dir = run_dir,
            .cni_path = plugin_dir,
            .default_name = "unitdef",
            .default_bridge = "unitdef0",
            .default_subnet = "10.89.0.0/24",
        };
        return 0;
}

static int teardown_tmp(void **state)
{
        assert_int_equal(rm_rf_at(AT_FDCWD, tmpdir, NULL), 0);
        return 0;
}

static json_object *parse(const char *s)
{
        json_object *o = NULL;

        assert_int_equal(json_parse_buf(s, strlen(s), "test", &o, NULL), 0);
        return o;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
        assert_int_equal(write_file_at(AT_FDCWD, path, text, strlen(text), O_CREAT | O_TRUNC, mode, NULL), 0);
}

/* ---- addresses ---- */

static void test_prefixes(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct ip_prefix a, b, c;
        struct ip_addr x;
        char buf[IP_STRLEN];

        assert_int_equal(ip_prefix_parse("10.89.0.0/24", &a, NULL), 0);
        assert_int_equal(ip_prefix_parse("10.89.0.128/25", &b, NULL), 0);
        assert_int_equal(ip_prefix_parse("10.89.1.0/24", &c, NULL), 0);
        assert_true(ip_prefix_overlaps(&a, &b));
        assert_true(ip_prefix_overlaps(&b, &a));
        assert_false(ip_prefix_overlaps(&a, &c));
        assert_int_equal(ip_prefix_parse("10.0.0.0/8", &c, NULL), 0);
        assert_true(ip_prefix_overlaps(&a, &c));

        assert_true(ip_prefix_parse("10.89.0.5/24", &a, &err) < 0);
        assert_string_equal(err->msg,
                            "invalid subnet `10.89.0.5/24`: host bits are set, did you mean 10.89.0.0/24?");
        assert_int_equal(err->code, EINVAL);
        assert_true(ip_prefix_parse("10.89.0.0/33", &a, NULL) < 0);
        assert_true(ip_prefix_parse("10.89.0.0", &a, NULL) < 0);
        assert_true(ip_prefix_parse("10.89.0.0/-1", &a, NULL) < 0);
        assert_true(ip_prefix_parse("banana/8", &a, NULL) < 0);

        assert_int_equal(ip_prefix_parse("10.89.0.0/24", &a, NULL), 0);
        assert_int_equal(ip_prefix_nth(&a, 1, &x), 0);
        ip_addr_format(&x, buf);
        assert_string_equal(buf, "10.89.0.1");
        assert_int_equal(ip_prefix_nth(&a, 255, &x), 0);
        assert_true(ip_prefix_is_reserved(&a, &x));
        assert_int_equal(ip_prefix_nth(&a, 256, &x), -ERANGE);
        assert_int_equal(ip_prefix_nth(&a, 0, &x), 0);
        assert_true(ip_prefix_is_reserved(&a, &x));

        /* IPv6, and families never overlap each other. */
        assert_int_equal(ip_prefix_parse("fd00:89::/64", &b, NULL), 0);
        assert_int_equal(ip_prefix_nth(&b, 1, &x), 0);
        ip_addr_format(&x, buf);
        assert_string_equal(buf, "fd00:89::1");
        assert_true(ip_prefix_contains(&b, &x));
        assert_false(ip_prefix_contains(&a, &x));
        assert_false(ip_prefix_overlaps(&a, &b));
        ip_prefix_format(&b, buf);
        assert_string_equal(buf, "fd00:89::/64");
        assert_int_equal(ip_prefix_parse("fd00:89::/48", &c, NULL), 0);
        assert_true(ip_prefix_overlaps(&b, &c));
}

static void test_names(void **state)
{
        assert_int_equal(name_check("network name", "my-net_1.x", NULL), 0);
        assert_true(name_check("network name", "-x", NULL) < 0);
        assert_true(name_check("network name", "a/b", NULL) < 0);
        assert_true(name_check("network name", "", NULL) < 0);
        assert_true(name_check("network name", "a b", NULL) < 0);
        assert_int_equal(ifname_check("eth0", NULL), 0);
        assert_true(ifname_check("0123456789abcdef", NULL) < 0);
        assert_true(ifname_check("..", NULL) < 0);
        assert_true(ifname_check("a:b", NULL) < 0);
        assert_true(hostname_valid("web"));
        assert_true(hostname_valid("web-1.example_x"));
        assert_false(hostname_valid("-web"));
        assert_false(hostname_valid("a..b"));
        assert_false(hostname_valid("a b"));
        assert_false(hostname_valid("a\nb"));
        assert_int_equal(cni_version_cmp("0.4.0", "1.0.0"), -1);
        assert_int_equal(cni_version_cmp("0.3.1", "0.3.0"), 1);
        assert_int_equal(cni_version_cmp("1.0.0", "1.0.0"), 0);
        assert_true(cni_version_supported("0.3.1"));
        assert_false(cni_version_supported("0.2.0"));
        assert_false(cni_version_supported("1.1.0"));
}

static void test_mode_parse(void **state)
{
        enum network_mode mode;
        char *net = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        assert_int_equal(network_mode_parse(&env, NULL, &mode, &net, NULL), 0);
        assert_int_equal(mode, NETWORK_MODE_BRIDGE);
        assert_string_equal(net, "unitdef");
        free(net);
        assert_int_equal(network_mode_parse(&env, "bridge", &mode, &net, NULL), 0);
        assert_string_equal(net, "unitdef");
        free(net);
        assert_int_equal(network_mode_parse(&env, "none", &mode, &net, NULL), 0);
        assert_int_equal(mode, NETWORK_MODE_NONE);
        assert_null(net);
        assert_int_equal(network_mode_parse(&env, "host", &mode, &net, NULL), 0);
        assert_int_equal(mode, NETWORK_MODE_HOST);
        assert_int_equal(network_mode_parse(&env, "backend", &mode, &net, NULL), 0);
        assert_string_equal(net, "backend");
        free(net);
        assert_true(network_mode_parse(&env, "container:x", &mode, &net, &err) < 0);
        assert_non_null(strstr(err->msg, "expected none, host, bridge or a network name"));
}

/* ---- configuration lists ---- */

static json_object *plugin_at(json_object *conf, size_t i)
{
        json_object *plugins;

        assert_true(json_object_object_get_ex(conf, "plugins", &plugins));
        return json_object_array_get_idx(plugins, i);
}

static const char *str_at(json_object *o, const char *key)
{
        json_object *v;

        assert_true(json_object_object_get_ex(o, key, &v));
        return json_object_get_string(v);
}

static bool bool_at(json_object *o, const char *key)
{
        json_object *v;

        assert_true(json_object_object_get_ex(o, key, &v));
        return json_object_get_boolean(v);
}

static void build_spec(struct net_spec *spec, struct ip_prefix *p, struct ip_addr *gw, const char *subnet,
                       const char *gateway)
{
        assert_int_equal(ip_prefix_parse(subnet, p, NULL), 0);
        assert_int_equal(ip_addr_parse(gateway, gw), 0);
        spec->subnets = p;
        spec->gateways = gw;
        spec->n_subnets = 1;
}

static void test_conflist_build_parse(void **state)
{
        struct ip_prefix p;
        struct ip_addr gw;
        char *labels[] = {"team", "infra", NULL};
        struct net_spec spec = {.name = "podman",
                                .bridge = "berth7",
                                .labels = labels,
                                .created = "2024-01-02T03:04:05Z",
                                .ipam_dir = "/var/lib/berth/network/ipam"};
        json_object *conf = NULL, *ipam, *routes, *ranges, *range;
        struct network *n = NULL;
        _cleanup_berr_ struct berr *err = NULL;

        build_spec(&spec, &p, &gw, "10.89.7.0/24", "10.89.7.1");
        assert_int_equal(conflist_build(&spec, &conf, NULL), 0);
        assert_string_equal(str_at(conf, "cniVersion"), "1.0.0");
        assert_string_equal(str_at(conf, "name"), "podman");
        assert_string_equal(str_at(plugin_at(conf, 0), "type"), "bridge");
        assert_string_equal(str_at(plugin_at(conf, 0), "bridge"), "berth7");
        assert_true(bool_at(plugin_at(conf, 0), "isGateway"));
        assert_true(bool_at(plugin_at(conf, 0), "ipMasq"));
        assert_string_equal(str_at(plugin_at(conf, 1), "type"), "portmap");
        assert_true(bool_at(plugin_at(conf, 1), "snat"));
        assert_string_equal(str_at(plugin_at(conf, 2), "type"), "firewall");
        assert_string_equal(str_at(plugin_at(conf, 3), "type"), "tuning");
        assert_null(plugin_at(conf, 4));
        assert_true(json_object_object_get_ex(plugin_at(conf, 0), "ipam", &ipam));
        assert_string_equal(str_at(ipam, "type"), "host-local");
        assert_string_equal(str_at(ipam, "dataDir"), "/var/lib/berth/network/ipam");
        assert_true(json_object_object_get_ex(ipam, "routes", &routes));
        assert_int_equal(json_object_array_length(routes), 1);
        assert_string_equal(str_at(json_object_array_get_idx(routes, 0), "dst"), "0.0.0.0/0");
        assert_true(json_object_object_get_ex(ipam, "ranges", &ranges));
        range = json_object_array_get_idx(json_object_array_get_idx(ranges, 0), 0);
        assert_string_equal(str_at(range, "subnet"), "10.89.7.0/24");
        assert_string_equal(str_at(range, "gateway"), "10.89.7.1");

        assert_int_equal(conflist_parse(conf, "/etc/berth/networks/podman.conflist", &n, &err), 0);
        assert_string_equal(n->name, "podman");
        /* The same id podman shows for a network of this name. */
        assert_string_equal(n->id, "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9");
        assert_string_equal(n->driver, "bridge");
        assert_string_equal(n->bridge, "berth7");
        assert_string_equal(n->created, "2024-01-02T03:04:05Z");
        assert_int_equal(n->n_subnets, 1);
        assert_string_equal(n->subnets[0].subnet, "10.89.7.0/24");
        assert_string_equal(n->subnets[0].gateway, "10.89.7.1");
        assert_false(n->internal);
        assert_false(n->ipv6);
        assert_string_equal(n->labels[0], "team");
        assert_string_equal(n->labels[1], "infra");
        network_free(n);
        n = NULL;

        /* The file must be named after the network. */
        assert_true(conflist_parse(conf, "/x/other.conflist", &n, &err) < 0);
        assert_non_null(strstr(err->msg, "does not match the file name"));
        json_object_put(conf);
}

static void test_conflist_internal_dual_stack(void **state)
{
        struct ip_prefix p[2];
        struct ip_addr gw[2];
        struct net_spec spec = {.name = "back",
                                .bridge = "berth9",
                                .internal = true,
                                .subnets = p,
                                .gateways = gw,
                                .n_subnets = 2};
        json_object *conf = NULL, *ipam, *routes, *ranges;
        struct network *n = NULL;

        assert_int_equal(ip_prefix_parse("10.89.9.0/24", &p[0], NULL), 0);
        assert_int_equal(ip_prefix_parse("fd00:89:9::/64", &p[1], NULL), 0);
        assert_int_equal(ip_prefix_nth(&p[0], 1, &gw[0]), 0);
        assert_int_equal(ip_prefix_nth(&p[1], 1, &gw[1]), 0);
        assert_int_equal(conflist_build(&spec, &conf, NULL), 0);
        /* Internal: no gateway address on the bridge, no masquerade, no default route. */
        assert_false(bool_at(plugin_at(conf, 0), "isGateway"));
        assert_false(bool_at(plugin_at(conf, 0), "ipMasq"));
        assert_true(json_object_object_get_ex(plugin_at(conf, 0), "ipam", &ipam));
        assert_true(json_object_object_get_ex(ipam, "routes", &routes));
        assert_int_equal(json_object_array_length(routes), 0);
        assert_true(json_object_object_get_ex(ipam, "ranges", &ranges));
        assert_int_equal(json_object_array_length(ranges), 2);
        assert_int_equal(conflist_parse(conf, "back.conflist", &n, NULL), 0);
        assert_true(n->internal);
        assert_true(n->ipv6);
        assert_int_equal(n->n_subnets, 2);
        assert_string_equal(n->subnets[1].subnet, "fd00:89:9::/64");
        assert_string_equal(n->subnets[1].gateway, "fd00:89:9::1");
        network_free(n);
        json_object_put(conf);
}

/* A configuration list berth did not write: podman's default, CNI 0.4.0. */
static const char podman_conflist[] =
    "{\"cniVersion\":\"0.4.0\",\"name\":\"podman\",\"plugins\":[{\"type\":\"bridge\",\"bridge\":\"cni-"
    "podman0\","
    "\"isGateway\":true,\"ipMasq\":true,\"hairpinMode\":true,\"ipam\":{\"type\":\"host-local\",\"routes\":[{"
    "\"dst\":"
    "\"0.0.0.0/0\"}],\"ranges\":[[{\"subnet\":\"10.88.0.0/"
    "16\",\"gateway\":\"10.88.0.1\"}]]}},{\"type\":\"portmap\","
    "\"capabilities\":{\"portMappings\":true}},{\"type\":\"firewall\"},{\"type\":\"tuning\"}]}";

static void test_conflist_foreign_and_invalid(void **state)
{
        static const struct {
                const char *json, *error;
        } bad[] = {
            {"{\"cniVersion\":\"0.2.0\",\"name\":\"x\",\"plugins\":[{\"type\":\"bridge\"}]}",
             "cniVersion 0.2.0 is not supported"},
            {"{\"cniVersion\":\"1.0.0\",\"name\":\"x\"}", "plugins: required field is missing"},
            {"{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"plugins\":[]}", "expected 1 to 64 plugins"},
            {"{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"plugins\":[{\"type\":\"../../bin/sh\"}]}",
             "is not a plugin name"},
            {"{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"plugins\":[{\"type\":\"bridge\",\"ipam\":{"
             "\"ranges\":"
             "[[{\"subnet\":\"10.1.0.0/16\",\"gateway\":\"10.2.0.1\"}]]}}]}",
             "gateway `10.2.0.1` is not an address of subnet 10.1.0.0/16"},
            {"{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"plugins\":[{\"type\":\"bridge\",\"ipam\":{"
             "\"ranges\":"
             "[[{\"subnet\":7}]]}}]}",
             "plugins[0].ipam.ranges[0][0].subnet: expected a string"},
            {"{\"cniVersion\":\"1.0.0\",\"name\":\"a b\",\"plugins\":[{\"type\":\"bridge\"}]}",
             "invalid network name"},
        };
        json_object *conf = parse(podman_conflist);
        struct network *n = NULL;

        assert_int_equal(conflist_parse(conf, "/etc/cni/net.d/podman.conflist", &n, NULL), 0);
        assert_string_equal(n->bridge, "cni-podman0");
        assert_string_equal(n->subnets[0].subnet, "10.88.0.0/16");
        assert_string_equal(n->subnets[0].gateway, "10.88.0.1");
        assert_null(n->created);
        assert_false(n->internal);
        network_free(n);
        json_object_put(conf);

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                _cleanup_berr_ struct berr *err = NULL;
                conf = parse(bad[i].json);
                n = NULL;
                assert_true(conflist_parse(conf, "x.conflist", &n, &err) < 0);
                assert_null(n);
                if (!strstr(err->msg, bad[i].error))
                        fail_msg("case %zu: `%s` lacks `%s`", i, err->msg, bad[i].error);
                json_object_put(conf);
        }
}

/* ---- results ---- */

/* What bridge (plugins 1.1.1) printed on this host for cniVersion 1.0.0. */
static const char result_100[] =
    "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"berth0\",\"mac\":\"96:92:55:52:50:0a\"},"
    "{\"name\":\"veth9b0d3f98\",\"mac\":\"06:48:0a:71:be:9a\"},{\"name\":\"eth0\",\"mac\":\"66:75:49:bc:2c:"
    "e9\","
    "\"sandbox\":\"/run/berth/netns/c1\"}],\"ips\":[{\"interface\":2,\"address\":\"10.89.0.2/24\","
    "\"gateway\":\"10.89.0.1\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{}}";

/* The 0.4.0 shape: every IP names its family. */
static const char result_040[] =
    "{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"cni-podman0\",\"mac\":\"aa:bb:cc:dd:ee:01\"},"
    "{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:dd:ee:02\",\"sandbox\":\"/run/netns/"
    "x\"}],\"ips\":[{\"version\":\"4\","
    "\"interface\":1,\"address\":\"10.88.0.5/"
    "16\",\"gateway\":\"10.88.0.1\"},{\"version\":\"6\",\"interface\":1,"
    "\"address\":\"fd00::5/64\"}],\"dns\":{}}";

static void test_result_parse(void **state)
{
        static const struct {
                const char *json, *error;
        } bad[] = {
            {"{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":\"10.0.0.2/24\"}}",
             "cniVersion 0.2.0 is not supported"},
            {"{\"ips\":[]}", "result.cniVersion: required field is missing"},
            {"{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.0.0.2\"}]}", "not an address in CIDR"},
            {"{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\"}],\"ips\":[{\"address\":"
             "\"10.0.0.2/24\",\"interface\":1}]}",
             "result.ips[0].interface: value 1 out of range [0, 0]"},
            {"{\"cniVersion\":\"0.4.0\",\"ips\":[{\"version\":\"6\",\"address\":\"10.0.0.2/24\"}]}",
             "does not match address"},
            {"{\"cniVersion\":\"0.4.0\",\"ips\":[{\"address\":\"10.0.0.2/24\"}]}",
             "result.ips[0].version: required field is missing"},
            {"{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"mac\":\"x\"}]}",
             "result.interfaces[0].name: required field is missing"},
            {"[1]", "expected a JSON object"},
        };
        struct cni_result *r = NULL;
        json_object *o = parse(result_100);

        assert_int_equal(cni_result_parse(o, &r, NULL), 0);
        assert_string_equal(r->cni_version, "1.0.0");
        assert_int_equal(r->n_interfaces, 3);
        assert_string_equal(r->interfaces[2].sandbox, "/run/berth/netns/c1");
        assert_int_equal(r->n_ips, 1);
        assert_string_equal(r->ips[0].address, "10.89.0.2/24");
        assert_string_equal(r->ips[0].gateway, "10.89.0.1");
        assert_int_equal(r->ips[0].interface, 2);
        cni_result_free(r);
        json_object_put(o);

        o = parse(result_040);
        assert_int_equal(cni_result_parse(o, &r, NULL), 0);
        assert_string_equal(r->cni_version, "0.4.0");
        assert_int_equal(r->n_ips, 2);
        assert_string_equal(r->ips[1].address, "fd00::5/64");
        assert_null(r->ips[1].gateway);
        cni_result_free(r);
        json_object_put(o);

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                _cleanup_berr_ struct berr *err = NULL;
                o = parse(bad[i].json);
                r = NULL;
                assert_true(cni_result_parse(o, &r, &err) < 0);
                assert_null(r);
                if (!strstr(err->msg, bad[i].error))
                        fail_msg("case %zu: `%s` lacks `%s`", i, err->msg, bad[i].error);
                json_object_put(o);
        }
}

static void test_result_to_attachment(void **state)
{
        static const char *const results[] = {result_100, result_040};
        static const char *const want_ip[] = {"10.89.0.2/24", "10.88.0.5/16"};
        static const char *const want_mac[] = {"66:75:49:bc:2c:e9", "aa:bb:cc:dd:ee:02"};

        for (size_t i = 0; i < ARRAY_SIZE(results); i++) {
                json_object *rec =
                    parse("{\"kind\":\"berth-cni-cache/v1\",\"network\":\"n\",\"containerId\":\"c1\","
                          "\"containerName\":\"web\",\"ifName\":\"eth0\",\"netns\":\"/x\","
                          "\"config\":{},\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":8080,"
                          "\"containerPort\":80,\"protocol\":\"tcp\",\"hostIP\":\"127.0.0.1\"}]}}");
                struct network_attachment *a = NULL;

                json_object_object_add(rec, "result", parse(results[i]));
                assert_int_equal(record_to_attachment(rec, &a, NULL), 0);
                assert_true(a->complete);
                assert_string_equal(a->container_name, "web");
                assert_string_equal(a->mac, want_mac[i]);
                assert_string_equal(a->ips[0].address, want_ip[i]);
                assert_int_equal(a->n_ports, 1);
                assert_int_equal(a->ports[0].host_port, 8080);
                assert_string_equal(a->ports[0].host_ip, "127.0.0.1");
                network_attachment_free(a);
                json_object_put(rec);
        }
}

static void test_plugin_conf(void **state)
{
        json_object *conf = parse(podman_conflist),
                    *rc = parse("{\"portMappings\":[{\"hostPort\":1,\"containerPort\":2,"
                                "\"protocol\":\"tcp\"}],\"bandwidth\":{}}");
        json_object *prev = parse(result_040), *out = NULL, *v;

        /* bridge declares no capabilities: no runtimeConfig; it gets the list's name and version. */
        assert_int_equal(cni_plugin_conf(conf, 0, rc, NULL, &out, NULL), 0);
        assert_string_equal(str_at(out, "name"), "podman");
        assert_string_equal(str_at(out, "cniVersion"), "0.4.0");
        assert_false(json_object_object_get_ex(out, "runtimeConfig", NULL));
        assert_false(json_object_object_get_ex(out, "prevResult", NULL));
        json_object_put(out);
        /* portmap declares portMappings: only that key, and the previous result. */
        assert_int_equal(cni_plugin_conf(conf, 1, rc, prev, &out, NULL), 0);
        assert_true(json_object_object_get_ex(out, "runtimeConfig", &v));
        assert_true(json_object_object_get_ex(v, "portMappings", NULL));
        assert_false(json_object_object_get_ex(v, "bandwidth", NULL));
        assert_true(json_object_object_get_ex(out, "prevResult", &v));
        assert_string_equal(str_at(v, "cniVersion"), "0.4.0");
        json_object_put(out);
        assert_true(cni_plugin_conf(conf, 9, rc, prev, &out, NULL) < 0);
        json_object_put(conf);
        json_object_put(rc);
        json_object_put(prev);
}

/* ---- ports ---- */

static void test_port_parse(void **state)
{
        static const struct {
                const char *spec;
                size_t n;
                const char *first, *last;
        } good[] = {
            {"80", 1, "0.0.0.0:0->80/tcp", NULL},
            {"8080:80", 1, "0.0.0.0:8080->80/tcp", NULL},
            {"127.0.0.1:8080:80/udp", 1, "127.0.0.1:8080->80/udp", NULL},
            {"127.0.0.1::80", 1, "127.0.0.1:0->80/tcp", NULL},
            {"0.0.0.0:8080:80", 1, "0.0.0.0:8080->80/tcp", NULL},
            {"[::1]:8080:80", 1, "[::1]:8080->80/tcp", NULL},
            {"8000-8002:9000-9002", 3, "0.0.0.0:8000->9000/tcp", "0.0.0.0:8002->9002/tcp"},
            {"53:53/tcp,udp", 2, "0.0.0.0:53->53/tcp", "0.0.0.0:53->53/udp"},
            {"7000-7001", 2, "0.0.0.0:0->7000/tcp", "0.0.0.0:0->7001/tcp"},
            {"1:65535/sctp", 1, "0.0.0.0:1->65535/sctp", NULL},
        };
        static const struct {
                const char *spec, *error;
        } bad[] = {
            {"", "is not a port"},
            {"0", "is not a port"},
            {"65536", "is not a port"},
            {"80/icmp", "unknown protocol `icmp`"},
            {"80/", "empty protocol"},
            {"a:80", "`a` is not a port"},
            {"8000-8001:80-82", "ranges differ in length"},
            {"8000:80-82", "ranges differ in length"},
            {"90-80", "ends before it starts"},
            {"1.2.3:80:80", "is not an IP address"},
            {"::1:80:80", "write IPv6 host addresses in brackets"},
            {"[::1:80:80", "expected [IPv6]:HOST:CONTAINER"},
            {"[1.2.3.4]:80:80", "is not an IP address"},
            {"1:2:3:4", "write IPv6 host addresses in brackets"},
            {"+80", "is not a port"},
        };

        for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
                _cleanup_free_ struct network_port *p = NULL;
                _cleanup_free_ char *first = NULL, *last = NULL;
                size_t n = 0;
                assert_int_equal(network_port_parse(good[i].spec, &p, &n, NULL), 0);
                assert_int_equal(n, good[i].n);
                first = network_port_format(&p[0]);
                last = network_port_format(&p[n - 1]);
                assert_string_equal(first, good[i].first);
                if (good[i].last)
                        assert_string_equal(last, good[i].last);
        }
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                _cleanup_free_ struct network_port *p = NULL;
                _cleanup_berr_ struct berr *err = NULL;
                size_t n = 0;
                assert_true(network_port_parse(bad[i].spec, &p, &n, &err) < 0);
                if (!strstr(err->msg, bad[i].error))
                        fail_msg("`%s`: `%s` lacks `%s`", bad[i].spec, err->msg, bad[i].error);
        }
}

static void test_port_ranges_and_exposed(void **state)
{
        _cleanup_free_ struct network_port *p = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        json_object *j;
        struct network_port *back = NULL;
        size_t n = 0, nb = 0;

        /* A host range for one container port: any free port of the range. */
        assert_int_equal(network_port_parse("8000-8010:80", &p, &n, NULL), 0);
        assert_int_equal(n, 1);
        assert_int_equal(p[0].host_port, 8000);
        assert_int_equal(p[0].host_port_end, 8010);
        assert_int_equal(network_port_parse_exposed("53/udp", &p, &n, NULL), 0);
        assert_int_equal(n, 2);
        assert_int_equal(p[1].host_port, 0);
        assert_int_equal(p[1].container_port, 53);
        assert_string_equal(p[1].protocol, "udp");
        assert_true(network_port_parse_exposed("80:80", &p, &n, &err) < 0);
        assert_int_equal(n, 2);
        /* The full range is allowed once, not past the cap. */
        assert_int_equal(network_port_parse("1-8000/udp", &p, &n, NULL), 0);
        assert_true(network_port_parse("1-8000/tcp", &p, &n, NULL) < 0);

        p[0].host_port = 8005;
        p[0].host_port_end = 0;
        p[1].host_port = 5353;
        strcpy(p[0].host_ip, "127.0.0.1");
        j = ports_to_json(p, 2);
        assert_int_equal(ports_from_json(j, "portMappings", &back, &nb, NULL), 0);
        assert_int_equal(nb, 2);
        assert_int_equal(back[0].host_port, 8005);
        assert_string_equal(back[0].host_ip, "127.0.0.1");
        assert_string_equal(back[1].protocol, "udp");
        free(back);
        json_object_put(j);
        j = parse("[{\"hostPort\":0,\"containerPort\":80,\"protocol\":\"tcp\"}]");
        assert_true(ports_from_json(j, "portMappings", &back, &nb, NULL) < 0);
        json_object_put(j);
}

static int bound_socket(uint16_t *port)
{
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof(sin);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
        assert_int_equal(listen(fd, 1), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
        *port = ntohs(sin.sin_port);
        return fd;
}

static void test_ports_allocate(void **state)
{
        _cleanup_close_ int busy = -1;
        _cleanup_berr_ struct berr *err = NULL;
        struct network_port p[3] = {0};
        uint16_t port;
        char spec[32];
        _cleanup_free_ struct network_port *ranged = NULL;
        size_t n = 0;
        int *fds = NULL;
        size_t n_fds = 0;

        busy = bound_socket(&port);
        /* A port a host process holds. */
        p[0].host_port = port;
        p[0].container_port = 80;
        strcpy(p[0].protocol, "tcp");
        strcpy(p[0].host_ip, "127.0.0.1");
        assert_true(network_ports_allocate(&env, p, 1, &err) < 0);
        assert_int_equal(err->code, EADDRINUSE);
        assert_non_null(strstr(err->msg, "is already in use on the host"));
        berr_freep(&err);

        /* Random ports: distinct, and a range skips the busy port. */
        memset(p, 0, sizeof(p));
        for (int i = 0; i < 2; i++) {
                p[i].container_port = (uint16_t)(80 + i);
                strcpy(p[i].protocol, "tcp");
        }
        assert_int_equal(network_ports_allocate(&env, p, 2, NULL), 0);
        assert_true(p[0].host_port != 0 && p[1].host_port != 0);
        assert_true(p[0].host_port != p[1].host_port);
        if (port < 65535) {
                snprintf(spec, sizeof(spec), "127.0.0.1:%u-%u:80", port, port + 1);
                assert_int_equal(network_port_parse(spec, &ranged, &n, NULL), 0);
                assert_int_equal(network_ports_allocate(&env, ranged, n, NULL), 0);
                assert_int_equal(ranged[0].host_port, port + 1);
                assert_int_equal(ranged[0].host_port_end, 0);
        }
        /* Twice the same host port in one request. */
        p[1].host_port = p[0].host_port;
        assert_true(network_ports_allocate(&env, p, 2, &err) < 0);
        assert_non_null(strstr(err->msg, "another mapping of this container"));
        berr_freep(&err);

        /* Kept sockets hold the port against other binders. */
        memset(p, 0, sizeof(p));
        p[0].container_port = 80;
        strcpy(p[0].protocol, "tcp");
        strcpy(p[0].host_ip, "127.0.0.1");
        assert_int_equal(ports_allocate_locked(&env, p, 1, &fds, &n_fds, NULL), 0);
        assert_int_equal(n_fds, 1);
        p[0].host_port_end = 0;
        assert_true(network_ports_allocate(&env, p, 1, &err) < 0);
        assert_int_equal(err->code, EADDRINUSE);
        close_fds(fds, n_fds);
}

static void test_ports_mapped_by_record(void **state)
{
        char dir[256], path[300];
        struct network_port p = {.host_port = 18099, .container_port = 80, .protocol = "udp"};
        _cleanup_berr_ struct berr *err = NULL;

        snprintf(dir, sizeof(dir), "%s/results/other", state_dir);
        assert_int_equal(mkdir_p(dir, 0700, NULL), 0);
        snprintf(path, sizeof(path), "%s/c9@eth0.json", dir);
        write_text(path,
                   "{\"kind\":\"berth-cni-cache/v1\",\"network\":\"other\",\"containerId\":\"c9\",\"ifName\":"
                   "\"eth0\",\"config\":{},\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":18099,"
                   "\"containerPort\":53,\"protocol\":\"udp\"}]}}",
                   0600);
        assert_true(network_ports_allocate(&env, &p, 1, &err) < 0);
        assert_string_equal(err->msg,
                            "host port 18099/udp is already mapped by container c9 (network other)");
        assert_int_equal(err->code, EADDRINUSE);
        /* Another protocol or host address does not collide... */
        strcpy(p.protocol, "tcp");
        assert_int_equal(network_ports_allocate(&env, &p, 1, NULL), 0);
        /* ...but a specific address inside "all addresses" does. */
        strcpy(p.protocol, "udp");
        strcpy(p.host_ip, "127.0.0.1");
        berr_freep(&err);
        assert_true(network_ports_allocate(&env, &p, 1, &err) < 0);
        assert_int_equal(unlink(path), 0);
}

/* ---- hosts ---- */

static void test_hosts_render(void **state)
{
        char *web[] = {"web", "0123456789ab", NULL}, *db[] = {"db", NULL},
             *evil[] = {"x\n1.2.3.4 bank", NULL};
        struct network_host_entry e[] = {{"10.89.0.2", web}, {"fd00::0003", db}};
        struct network_host_entry bad[] = {{"10.89.0.4", evil}}, noip[] = {{"banana", db}};
        _cleanup_free_ char *out = NULL, *out2 = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        char *none = NULL;

        assert_int_equal(network_hosts_render(NULL, e, 2, &out, NULL), 0);
        assert_string_equal(out, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                                 "10.89.0.2\tweb 0123456789ab\nfd00::3\tdb\n");
        assert_int_equal(network_hosts_render("1.2.3.4 gw", e, 1, &out2, NULL), 0);
        assert_string_equal(out2, "1.2.3.4 gw\n10.89.0.2\tweb 0123456789ab\n");
        assert_true(network_hosts_render(NULL, bad, 1, &none, &err) < 0);
        assert_null(none);
        assert_non_null(strstr(err->msg, "is not a valid host name"));
        berr_freep(&err);
        assert_true(network_hosts_render(NULL, noip, 1, &none, &err) < 0);
        assert_non_null(strstr(err->msg, "`banana` is not an IP address"));
}

static void write_record(const char *net, const char *id, const char *name, const char *address)
{
        char dir[256], path[400], text[1024];

        snprintf(dir, sizeof(dir), "%s/results/%s", state_dir, net);
        assert_int_equal(mkdir_p(dir, 0700, NULL), 0);
        snprintf(path, sizeof(path), "%s/%s@eth0.json", dir, id);
        snprintf(
            text, sizeof(text),
            "{\"kind\":\"berth-cni-cache/v1\",\"network\":\"%s\",\"containerId\":\"%s\",\"containerName\":"
            "\"%s\",\"ifName\":\"eth0\",\"config\":{}%s%s%s}",
            net, id, name, address ? ",\"result\":{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"" : "",
            address ? address : "", address ? "\"}]}" : "");
        write_text(path, text, 0600);
}

static void test_hosts_collect(void **state)
{
        const char *nets[] = {"front", "back", NULL};
        struct network_host_entry *e = NULL;
        _cleanup_free_ char *out = NULL;
        char dir[256];
        size_t n = 0;

        write_record("front", "0123456789abcdef", "web", "10.89.1.2/24");
        write_record("front", "a..b", "db", "10.89.1.3/24");
        write_record("front", "c3", "bad_name-", "10.89.1.4/24");
        write_record("front", "c4", "pending", NULL);
        write_record("back", "0123456789abcdef", "web", "fd00::2/64");
        assert_int_equal(network_hosts_collect(&env, nets, &e, &n, NULL), 0);
        /* Invalid names and unfinished attachments are left out; ids are shortened. */
        assert_int_equal(network_hosts_render("", e, n, &out, NULL), 0);
        assert_string_equal(out, "10.89.1.2\tweb 0123456789ab\n10.89.1.3\tdb\nfd00::2\tweb 0123456789ab\n");
        network_host_entries_free(e, n);
        snprintf(dir, sizeof(dir), "%s/results", state_dir);
        assert_int_equal(rm_rf_at(AT_FDCWD, dir, NULL), 0);
}

static void test_attachment_get(void **state)
{
        struct network_attachment *a = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        char dir[256];

        write_record("front", "c1", "web", "10.89.1.2/24");
        assert_int_equal(network_attachment_get(&env, "front", "c1", NULL, &a, &err), 0);
        assert_string_equal(a->container_name, "web");
        assert_int_equal(a->n_ips, 1);
        assert_string_equal(a->ips[0].address, "10.89.1.2/24");
        network_attachment_free(a);
        a = NULL;
        /* Missing: -ENOENT without an error; ids that would leave the directory are refused. */
        assert_int_equal(network_attachment_get(&env, "front", "c2", NULL, &a, &err), -ENOENT);
        assert_null(err);
        assert_true(network_attachment_get(&env, "front", "../c1", NULL, &a, &err) < 0);
        assert_non_null(err);
        assert_null(a);
        snprintf(dir, sizeof(dir), "%s/results", state_dir);
        assert_int_equal(rm_rf_at(AT_FDCWD, dir, NULL), 0);
}

/* ---- networks on disk ---- */

static void test_network_store(void **state)
{
        const char *sub_a[] = {"10.201.0.0/16", NULL}, *sub_b[] = {"10.201.7.0/24", NULL},
                   *sub_lo[] = {"127.0.0.0/16", NULL}, *labels[] = {"env=test", "tier=db", NULL},
                   *bad_labels[] = {"novalue", NULL}, *gw_out[] = {"10.202.1.1", NULL},
                   *sub_c[] = {"10.202.0.0/24", NULL};
        struct network_create_opts a = {
            .name = "neta", .subnets = sub_a, .labels = labels, .bridge = "unitbr9"};
        struct network_create_opts o = {0};
        struct network *n = NULL, **list = NULL;
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_free_ char *json = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        char path[256];
        size_t count = 0;

        assert_int_equal(network_create(&env, &a, &n, NULL), 0);
        assert_string_equal(n->subnets[0].gateway, "10.201.0.1");
        network_free(n);
        assert_true(network_create(&env, &a, NULL, &err) < 0);
        assert_non_null(strstr(err->msg, "network `neta` already exists"));
        berr_freep(&err);

        o.name = "netb";
        o.subnets = sub_b;
        assert_true(network_create(&env, &o, NULL, &err) < 0);
        assert_non_null(
            strstr(err->msg, "subnet 10.201.7.0/24 overlaps subnet 10.201.0.0/16 of network `neta`"));
        berr_freep(&err);
        o.subnets = sub_lo;
        assert_true(network_create(&env, &o, NULL, &err) < 0);
        assert_non_null(strstr(err->msg, "overlaps address 127.0.0.1/8 of host interface `lo`"));
        berr_freep(&err);
        o.subnets = sub_c;
        o.gateways = gw_out;
        assert_true(network_create(&env, &o, NULL, &err) < 0);
        assert_non_null(strstr(err->msg, "gateway 10.202.1.1 is not a host address of subnet 10.202.0.0/24"));
        berr_freep(&err);
        o.gateways = NULL;
        o.subnets = NULL;
        o.labels = bad_labels;
        assert_true(network_create(&env, &o, NULL, &err) < 0);
        assert_non_null(strstr(err->msg, "expected KEY=VALUE"));
        berr_freep(&err);
        o.labels = NULL;
        o.bridge = "unitbr9";
        assert_true(network_create(&env, &o, NULL, &err) < 0);
        assert_non_null(strstr(err->msg, "bridge `unitbr9` is already used by network `neta`"));
        berr_freep(&err);
        o.bridge = NULL;

        /* No subnet: the first free 10.89.N.0/24 (never the default network's), internal. */
        o.internal = true;
        assert_int_equal(network_create(&env, &o, &n, NULL), 0);
        assert_true(strneq(n->subnets[0].subnet, "10.89.", 6));
        assert_string_not_equal(n->subnets[0].subnet, "10.89.0.0/24");
        snprintf(path, sizeof(path), "%s", n->subnets[0].subnet);
        assert_true(n->internal);
        assert_non_null(n->bridge);
        network_free(n);
        o.name = "netc";
        assert_int_equal(network_create(&env, &o, &n, NULL), 0);
        assert_true(strneq(n->subnets[0].subnet, "10.89.", 6));
        assert_string_not_equal(n->subnets[0].subnet, path);
        network_free(n);

        o.name = "bridge";
        assert_true(network_create(&env, &o, NULL, &err) < 0);
        assert_non_null(strstr(err->msg, "reserved"));
        berr_freep(&err);
        o.name = "unitdef";
        assert_true(network_create(&env, &o, NULL, &err) < 0);
        berr_freep(&err);

        /* A broken file does not hide the others. */
        snprintf(path, sizeof(path), "%s/broken.conflist", conf_dir);
        write_text(path, "{", 0644);
        assert_int_equal(network_list(&env, &list, &count, &warnings, NULL), 0);
        assert_int_equal(count, 3);
        assert_string_equal(list[0]->name, "neta");
        assert_string_equal(list[2]->name, "netc");
        assert_int_equal(strv_length(warnings), 1);
        assert_non_null(strstr(warnings[0], "broken.conflist"));
        assert_int_equal(network_inspect_json(list, 1, &json, NULL), 0);
        network_freev(list, count);
        assert_int_equal(unlink(path), 0);
        {
                json_object *arr = parse(json), *first = json_object_array_get_idx(arr, 0), *v;
                assert_string_equal(str_at(first, "name"), "neta");
                assert_string_equal(str_at(first, "driver"), "bridge");
                assert_string_equal(str_at(first, "network_interface"), "unitbr9");
                assert_true(json_object_object_get_ex(first, "subnets", &v));
                assert_string_equal(str_at(json_object_array_get_idx(v, 0), "gateway"), "10.201.0.1");
                assert_true(json_object_object_get_ex(first, "labels", &v));
                assert_string_equal(str_at(v, "tier"), "db");
                assert_false(bool_at(first, "internal"));
                assert_int_equal(strlen(str_at(first, "id")), 64);
                json_object_put(arr);
        }

        /* The default network appears on first use, with the configured bridge and subnet. */
        assert_int_equal(network_get(&env, "unitdef", &n, NULL), 0);
        assert_string_equal(n->bridge, "unitdef0");
        assert_string_equal(n->subnets[0].subnet, "10.89.0.0/24");
        network_free(n);
        assert_true(network_get(&env, "nosuch", &n, &err) < 0);
        assert_int_equal(err->code, ENOENT);
        berr_freep(&err);

        assert_true(network_remove(&env, "unitdef", false, &err) < 0);
        assert_non_null(strstr(err->msg, "cannot be removed"));
        berr_freep(&err);
        assert_int_equal(network_remove(&env, "unitdef", true, NULL), 0);
        assert_int_equal(network_remove(&env, "neta", false, NULL), 0);
        assert_int_equal(network_remove(&env, "netb", false, NULL), 0);
        assert_int_equal(network_remove(&env, "netc", false, NULL), 0);
        assert_true(network_remove(&env, "netc", false, &err) < 0);
        assert_non_null(strstr(err->msg, "not found"));
        berr_freep(&err);
}

static void test_network_remove_in_use(void **state)
{
        const char *sub[] = {"10.203.0.0/24", NULL};
        struct network_create_opts o = {.name = "busy", .subnets = sub};
        _cleanup_berr_ struct berr *err = NULL;
        char dir[256], path[300];

        assert_int_equal(network_create(&env, &o, NULL, NULL), 0);
        snprintf(dir, sizeof(dir), "%s/results/busy", state_dir);
        assert_int_equal(mkdir_p(dir, 0700, NULL), 0);
        snprintf(path, sizeof(path), "%s/abc@eth0.json", dir);
        write_text(path,
                   "{\"kind\":\"berth-cni-cache/v1\",\"network\":\"busy\",\"containerId\":\"abc\",\"ifName\":"
                   "\"eth0\",\"config\":{}}",
                   0600);
        assert_true(network_remove(&env, "busy", false, &err) < 0);
        assert_int_equal(err->code, EBUSY);
        assert_non_null(strstr(err->msg, "network `busy` is in use by 1 container (abc)"));
        berr_freep(&err);
        /* A corrupt record counts as use rather than being ignored. */
        write_text(path, "{\"kind\":1}", 0600);
        assert_true(network_remove(&env, "busy", false, &err) < 0);
        assert_non_null(strstr(err->msg, "not a berth network record"));
        assert_int_equal(unlink(path), 0);
        assert_int_equal(network_remove(&env, "busy", false, NULL), 0);
}

/* ---- plugin execution, with shell-script plugins ---- */

static void write_plugin(const char *name, const char *body)
{
        char path[256];
        _cleanup_free_ char *text = NULL;

        snprintf(path, sizeof(path), "%s/%s", plugin_dir, name);
        assert_true(asprintf(&text, "#!/bin/sh\n%s\n", body) > 0);
        write_text(path, text, 0755);
}

static void test_cni_exec_list(void **state)
{
        char log[256], conf_text[512], stdin_copy[256];
        _cleanup_free_ char *body = NULL, *logged = NULL, *seen = NULL;
        struct cni_call call = {.command = "ADD",
                                .container_id = "c1",
                                .netns = "/n",
                                .ifname = "eth0",
                                .args = "IgnoreUnknown=1",
                                .cni_path = plugin_dir,
                                .timeout = 60};
        json_object *conf, *result = NULL, *prev, *v;
        size_t len;

        snprintf(log, sizeof(log), "%s/plugin.log", tmpdir);
        snprintf(stdin_copy, sizeof(stdin_copy), "%s/second.stdin", tmpdir);
        /* first: prints a result naming what it was given; second: records its stdin, passes prevResult on.
         */
        assert_true(
            asprintf(
                &body,
                "echo \"first $CNI_COMMAND $CNI_CONTAINERID $CNI_NETNS $CNI_IFNAME $CNI_ARGS\" >> %s\n"
                "[ \"$CNI_COMMAND\" = ADD ] || exit 0\n"
                "echo '{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/n\"}],"
                "\"ips\":[{\"address\":\"10.9.0.2/24\",\"interface\":0}]}'",
                log) > 0);
        write_plugin("first", body);
        free(TAKE_PTR(body));
        assert_true(
            asprintf(
                &body,
                "echo \"second $CNI_COMMAND\" >> %s\ncat > %s\n"
                "[ \"$CNI_COMMAND\" = ADD ] || exit 0\n"
                "echo '{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/n\"}],"
                "\"ips\":[{\"address\":\"10.9.0.2/"
                "24\",\"interface\":0}],\"dns\":{\"nameservers\":[\"1.1.1.1\"]}}'",
                log, stdin_copy) > 0);
        write_plugin("second", body);
        snprintf(
            conf_text, sizeof(conf_text),
            "{\"cniVersion\":\"1.0.0\",\"name\":\"t\",\"plugins\":[{\"type\":\"first\"},{\"type\":\"second\","
            "\"capabilities\":{\"portMappings\":true}}]}");
        conf = parse(conf_text);
        assert_int_equal(cni_list_check_plugins(conf, plugin_dir, NULL), 0);
        assert_int_equal(cni_list_run(&call, conf, NULL, NULL, &result, NULL), 0);
        assert_true(json_object_object_get_ex(result, "dns", &v));

        /* The second plugin got the first one's result as prevResult, and the list's name. */
        assert_int_equal(read_file_at(AT_FDCWD, stdin_copy, 65536, &seen, &len, NULL), 0);
        prev = parse(seen);
        assert_string_equal(str_at(prev, "name"), "t");
        assert_string_equal(str_at(prev, "type"), "second");
        assert_true(json_object_object_get_ex(prev, "prevResult", &v));
        assert_false(json_object_object_get_ex(v, "dns", NULL));
        json_object_put(prev);

        /* DEL runs in reverse order. */
        call.command = "DEL";
        assert_int_equal(cni_list_run(&call, conf, NULL, result, NULL, NULL), 0);
        assert_int_equal(read_file_at(AT_FDCWD, log, 65536, &logged, &len, NULL), 0);
        assert_string_equal(logged, "first ADD c1 /n eth0 IgnoreUnknown=1\nsecond ADD\nsecond DEL\n"
                                    "first DEL c1 /n eth0 IgnoreUnknown=1\n");
        json_object_put(result);
        json_object_put(conf);
}

static void test_cni_exec_failures(void **state)
{
        struct cni_call call = {.command = "ADD",
                                .container_id = "c1",
                                .netns = "/n",
                                .ifname = "eth0",
                                .cni_path = plugin_dir,
                                .timeout = 60};
        json_object *conf = parse("{\"cniVersion\":\"1.0.0\",\"name\":\"t\",\"type\":\"x\"}"), *res = NULL;
        char path[256];

        static const struct {
                const char *name, *body, *error;
        } cases[] = {
            {"cnierr",
             "echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"no IP addresses available\","
             "\"details\":\"range 10.0.0.0/30\"}'; exit 1",
             "plugin `cnierr` ADD failed: no IP addresses available: range 10.0.0.0/30 (CNI error code 11)"},
            {"crash", "echo 'panic: oops' >&2; exit 2",
             "plugin `crash` ADD exited with status 2: panic: oops"},
            {"garbage", "echo 'not json'", "plugin `garbage` ADD: result: invalid JSON"},
            {"silent", "exit 0", "plugin `silent` ADD printed no result"},
            {"huge", "yes x | head -c 2000000", "printed more than 1048576 bytes"},
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *plugin = NULL;
                _cleanup_berr_ struct berr *err = NULL;
                write_plugin(cases[i].name, cases[i].body);
                assert_int_equal(cni_plugin_find(plugin_dir, cases[i].name, &plugin, NULL), 0);
                assert_true(cni_exec(&call, plugin, conf, &res, &err) < 0);
                if (!strstr(err->msg, cases[i].error))
                        fail_msg("%s: `%s` lacks `%s`", cases[i].name, err->msg, cases[i].error);
        }
        {
                _cleanup_berr_ struct berr *err = NULL;
                _cleanup_free_ char *plugin = NULL;
                json_object *list = parse("{\"cniVersion\":\"1.0.0\",\"name\":\"t\",\"plugins\":[{\"type\":"
                                          "\"cnierr\"},{\"type\":\"nosuchplugin\"}]}");
                assert_true(cni_plugin_find(plugin_dir, "nosuchplugin", &plugin, &err) < 0);
                assert_non_null(strstr(err->msg, "CNI plugin `nosuchplugin` not found in"));
                berr_freep(&err);
                assert_true(cni_list_check_plugins(list, plugin_dir, &err) < 0);
                assert_non_null(strstr(err->msg, "nosuchplugin"));
                json_object_put(list);
        }
        /* A plugin that never finishes is killed at the deadline, also when it closed its output. */
        call.timeout = 1;
        for (int i = 0; i < 2; i++) {
                _cleanup_free_ char *plugin = NULL;
                _cleanup_berr_ struct berr *err = NULL;
                write_plugin("hang", i == 0 ? "exec sleep 1000" : "exec >&- 2>&-\nexec sleep 1000");
                assert_int_equal(cni_plugin_find(plugin_dir, "hang", &plugin, NULL), 0);
                assert_true(cni_exec(&call, plugin, conf, &res, &err) < 0);
                assert_int_equal(err->code, ETIMEDOUT);
                assert_non_null(strstr(err->msg, "plugin `hang` ADD did not finish within 1 s"));
        }
        /* A plugin file that is not executable is not found either. */
        snprintf(path, sizeof(path), "%s/noexec", plugin_dir);
        write_text(path, "#!/bin/sh\n", 0644);
        {
                _cleanup_free_ char *plugin = NULL;
                assert_true(cni_plugin_find(plugin_dir, "noexec", &plugin, NULL) < 0);
                assert_true(cni_plugin_find(plugin_dir, "../plugins/cnierr", &plugin, NULL) < 0);
        }
        json_object_put(conf);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_prefixes),
            cmocka_unit_test(test_names),
            cmocka_unit_test(test_mode_parse),
            cmocka_unit_test(test_conflist_build_parse),
            cmocka_unit_test(test_conflist_internal_dual_stack),
            cmocka_unit_test(test_conflist_foreign_and_invalid),
            cmocka_unit_test(test_result_parse),
            cmocka_unit_test(test_result_to_attachment),
            cmocka_unit_test(test_attachment_get),
            cmocka_unit_test(test_plugin_conf),
            cmocka_unit_test(test_port_parse),
            cmocka_unit_test(test_port_ranges_and_exposed),
            cmocka_unit_test(test_ports_allocate),
            cmocka_unit_test(test_ports_mapped_by_record),
            cmocka_unit_test(test_hosts_render),
            cmocka_unit_test(test_hosts_collect),
            cmocka_unit_test(test_network_store),
            cmocka_unit_test(test_network_remove_in_use),
            cmocka_unit_test(test_cni_exec_list),
            cmocka_unit_test(test_cni_exec_failures),
        };

        return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
