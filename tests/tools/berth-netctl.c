/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test driver for src/network: calls the library the way the engine will, so
 * bats tests can exercise it. Built, not installed.
 *
 * Where networks live comes from the environment (or the matching --options
 * before the command): BERTH_NETWORK_CONFIG_DIR, BERTH_NETWORK_STATE_DIR,
 * BERTH_NETWORK_RUN_DIR, BERTH_CNI_PATH, BERTH_NETWORK_DEFAULT_NAME,
 * BERTH_NETWORK_DEFAULT_BRIDGE, BERTH_NETWORK_DEFAULT_SUBNET.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "basic/json.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "network/network.h"

static struct network_env env;

static int fail(struct berr *err)
{
        fprintf(stderr, "berth-netctl: %s\n", err && err->msg ? err->msg : "failed");
        berr_free(err);
        return 1;
}

static int usage(void)
{
        fputs(
            "usage: berth-netctl [--config-dir D] [--state-dir D] [--run-dir D] [--cni-path P]\n"
            "                    [--default-name N] [--default-bridge B] [--default-subnet S] COMMAND\n"
            "  create NAME [--subnet CIDR]... [--gateway IP]... [--bridge IF] [--internal] [--label K=V]...\n"
            "  ls | inspect NAME... | rm NAME [--allow-default] | mode ARG\n"
            "  netns-add NAME | netns-rm NAME\n"
            "  attach --network NET --id ID --netns PATH [--name N] [--ifname IF] [--ip IP]\n"
            "         [-p SPEC]... [--expose SPEC]... [--cni-arg K=V]... [--reserve]\n"
            "  detach --network NET --id ID [--ifname IF] | check --network NET --id ID [--ifname IF]\n"
            "  ps [NET] | hosts NET... | ports SPEC...\n",
            stderr);
        return 2;
}

static int cmd_create(int argc, char **argv)
{
        static const struct option opts[] = {
            {"subnet", required_argument, NULL, 's'}, {"gateway", required_argument, NULL, 'g'},
            {"bridge", required_argument, NULL, 'b'}, {"internal", no_argument, NULL, 'i'},
            {"label", required_argument, NULL, 'l'},  {},
        };
        _cleanup_strv_free_ char **subnets = NULL, **gateways = NULL, **labels = NULL;
        struct network_create_opts o = {0};
        struct network *net = NULL;
        struct berr *err = NULL;
        int c;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (c) {
                case 's':
                        strv_extend(&subnets, optarg);
                        break;
                case 'g':
                        strv_extend(&gateways, optarg);
                        break;
                case 'b':
                        o.bridge = optarg;
                        break;
                case 'i':
                        o.internal = true;
                        break;
                case 'l':
                        strv_extend(&labels, optarg);
                        break;
                default:
                        return usage();
                }
        }
        if (optind + 1 != argc)
                return usage();
        o.name = argv[optind];
        o.subnets = (const char *const *)subnets;
        o.gateways = (const char *const *)gateways;
        o.labels = (const char *const *)labels;
        if (network_create(&env, &o, &net, &err) < 0)
                return fail(err);
        printf("%s\n", net->name);
        network_free(net);
        return 0;
}

static int cmd_ls(int argc, char **argv)
{
        struct network **nets = NULL;
        _cleanup_strv_free_ char **warnings = NULL;
        struct berr *err = NULL;
        size_t n = 0;

        if (network_list(&env, &nets, &n, &warnings, &err) < 0)
                return fail(err);
        STRV_FOREACH (w, warnings)
                fprintf(stderr, "berth-netctl: warning: %s\n", *w);
        printf("%-14s%-20s%s\n", "NETWORK ID", "NAME", "DRIVER");
        for (size_t i = 0; i < n; i++)
                printf("%-14.12s%-20s%s\n", nets[i]->id, nets[i]->name, nets[i]->driver);
        network_freev(nets, n);
        return 0;
}

static int cmd_inspect(int argc, char **argv)
{
        struct network **nets = calloc((size_t)argc, sizeof(*nets));
        _cleanup_free_ char *json = NULL;
        struct berr *err = NULL;
        size_t n = 0;
        int r = 0;

        if (argc < 2 || !nets) {
                free(nets);
                return usage();
        }
        for (int i = 1; i < argc && r >= 0; i++) {
                r = network_get(&env, argv[i], &nets[n], &err);
                if (r >= 0)
                        n++;
        }
        if (r >= 0)
                r = network_inspect_json(nets, n, &json, &err);
        network_freev(nets, n);
        if (r < 0)
                return fail(err);
        printf("%s\n", json);
        return 0;
}

static int cmd_rm(int argc, char **argv)
{
        struct berr *err = NULL;
        bool allow_default = argc == 3 && streq(argv[2], "--allow-default");

        if (argc != 2 && !allow_default)
                return usage();
        if (network_remove(&env, argv[1], allow_default, &err) < 0)
                return fail(err);
        printf("%s\n", argv[1]);
        return 0;
}

static int cmd_mode(int argc, char **argv)
{
        enum network_mode mode;
        _cleanup_free_ char *net = NULL;
        struct berr *err = NULL;

        if (argc != 2)
                return usage();
        if (network_mode_parse(&env, argv[1], &mode, &net, &err) < 0)
                return fail(err);
        printf("%s%s%s\n",
               mode == NETWORK_MODE_NONE   ? "none"
               : mode == NETWORK_MODE_HOST ? "host"
                                           : "bridge",
               net ? " " : "", net ? net : "");
        return 0;
}

static int cmd_netns(int argc, char **argv, bool add)
{
        _cleanup_free_ char *path = NULL;
        struct berr *err = NULL;

        if (argc != 2)
                return usage();
        if (add ? network_netns_create(&env, argv[1], &path, &err)
                : network_netns_remove(&env, argv[1], &err))
                return fail(err);
        if (path)
                printf("%s\n", path);
        return 0;
}

static json_object *attachment_json(const struct network_attachment *a)
{
        json_object *o = json_object_new_object(), *ips = json_object_new_array(),
                    *ports = json_object_new_array();

        json_object_object_add(o, "network", json_object_new_string(a->network));
        json_object_object_add(o, "containerId", json_object_new_string(a->container_id));
        json_object_object_add(o, "containerName", json_object_new_string(a->container_name));
        json_object_object_add(o, "ifName", json_object_new_string(a->ifname));
        json_object_object_add(o, "netns", json_object_new_string(a->netns));
        json_object_object_add(o, "complete", json_object_new_boolean(a->complete));
        if (a->mac)
                json_object_object_add(o, "mac", json_object_new_string(a->mac));
        for (size_t i = 0; i < a->n_ips; i++) {
                json_object *ip = json_object_new_object();
                json_object_object_add(ip, "address", json_object_new_string(a->ips[i].address));
                if (a->ips[i].gateway)
                        json_object_object_add(ip, "gateway", json_object_new_string(a->ips[i].gateway));
                json_object_array_add(ips, ip);
        }
        json_object_object_add(o, "ips", ips);
        for (size_t i = 0; i < a->n_ports; i++) {
                char *s = network_port_format(&a->ports[i]);
                json_object_array_add(ports, json_object_new_string(s ? s : "?"));
                free(s);
        }
        json_object_object_add(o, "ports", ports);
        json_object_object_add(o, "reservedPorts", json_object_new_int((int)a->n_port_fds));
        return o;
}

static int cmd_attach(int argc, char **argv, const char *cmd)
{
        static const struct option opts[] = {
            {"network", required_argument, NULL, 'N'},
            {"id", required_argument, NULL, 'i'},
            {"name", required_argument, NULL, 'n'},
            {"netns", required_argument, NULL, 's'},
            {"ifname", required_argument, NULL, 'f'},
            {"ip", required_argument, NULL, 'a'},
            {"publish", required_argument, NULL, 'p'},
            {"expose", required_argument, NULL, 'e'},
            {"cni-arg", required_argument, NULL, 'c'},
            {"reserve", no_argument, NULL, 'r'},
            {},
        };
        struct network_attach_opts o = {0};
        _cleanup_strv_free_ char **args = NULL;
        _cleanup_free_ struct network_port *ports = NULL;
        struct network_attachment *a = NULL;
        const char *network = NULL;
        struct berr *err = NULL;
        size_t n_ports = 0;
        int c;

        while ((c = getopt_long(argc, argv, "p:", opts, NULL)) != -1) {
                switch (c) {
                case 'N':
                        network = optarg;
                        break;
                case 'i':
                        o.container_id = optarg;
                        break;
                case 'n':
                        o.container_name = optarg;
                        break;
                case 's':
                        o.netns = optarg;
                        break;
                case 'f':
                        o.ifname = optarg;
                        break;
                case 'a':
                        o.static_ip = optarg;
                        break;
                case 'p':
                        if (network_port_parse(optarg, &ports, &n_ports, &err) < 0)
                                return fail(err);
                        break;
                case 'e':
                        if (network_port_parse_exposed(optarg, &ports, &n_ports, &err) < 0)
                                return fail(err);
                        break;
                case 'c':
                        strv_extend(&args, optarg);
                        break;
                case 'r':
                        o.reserve_ports = true;
                        break;
                default:
                        return usage();
                }
        }
        if (!network || !o.container_id || optind != argc)
                return usage();
        if (streq(cmd, "detach"))
                return network_detach(&env, network, o.container_id, o.ifname, &err) < 0 ? fail(err) : 0;
        if (streq(cmd, "check"))
                return network_check(&env, network, o.container_id, o.ifname, &err) < 0 ? fail(err) : 0;
        o.ports = ports;
        o.n_ports = n_ports;
        o.cni_args = (const char *const *)args;
        if (network_attach(&env, network, &o, &a, &err) < 0)
                return fail(err);
        json_object *j = attachment_json(a);
        printf("%s\n", json_to_string(j, true));
        json_object_put(j);
        network_attachment_free(a);
        return 0;
}

static int cmd_ps(int argc, char **argv)
{
        struct network_attachment **atts = NULL;
        struct berr *err = NULL;
        size_t n = 0;

        if (argc > 2)
                return usage();
        if (network_attachments_list(&env, argc == 2 ? argv[1] : NULL, &atts, &n, &err) < 0)
                return fail(err);
        for (size_t i = 0; i < n; i++) {
                printf("%s %s %s %s", atts[i]->network, atts[i]->container_id, atts[i]->container_name,
                       atts[i]->ifname);
                for (size_t j = 0; j < atts[i]->n_ips; j++)
                        printf(" %s", atts[i]->ips[j].address);
                for (size_t j = 0; j < atts[i]->n_ports; j++) {
                        char *s = network_port_format(&atts[i]->ports[j]);
                        printf(" %s", s ? s : "?");
                        free(s);
                }
                printf("%s\n", atts[i]->complete ? "" : " (incomplete)");
        }
        network_attachmentv_free(atts, n);
        return 0;
}

static int cmd_hosts(int argc, char **argv)
{
        struct network_host_entry *entries = NULL;
        _cleanup_free_ char *out = NULL;
        struct berr *err = NULL;
        size_t n = 0;
        int r;

        if (argc < 2)
                return usage();
        r = network_hosts_collect(&env, (const char *const *)argv + 1, &entries, &n, &err);
        if (r >= 0)
                r = network_hosts_render(NULL, entries, n, &out, &err);
        network_host_entries_free(entries, n);
        if (r < 0)
                return fail(err);
        fputs(out, stdout);
        return 0;
}

/* Parses -p specs and chooses host ports, as `run -p/-P` would before attaching. */
static int cmd_ports(int argc, char **argv)
{
        _cleanup_free_ struct network_port *ports = NULL;
        struct berr *err = NULL;
        size_t n = 0;

        if (argc < 2)
                return usage();
        for (int i = 1; i < argc; i++)
                if (network_port_parse(argv[i], &ports, &n, &err) < 0)
                        return fail(err);
        if (network_ports_allocate(&env, ports, n, &err) < 0)
                return fail(err);
        for (size_t i = 0; i < n; i++) {
                char *s = network_port_format(&ports[i]);
                printf("%s\n", s ? s : "?");
                free(s);
        }
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"config-dir", required_argument, NULL, 'c'},
            {"state-dir", required_argument, NULL, 's'},
            {"run-dir", required_argument, NULL, 'r'},
            {"cni-path", required_argument, NULL, 'p'},
            {"default-name", required_argument, NULL, 'n'},
            {"default-bridge", required_argument, NULL, 'b'},
            {"default-subnet", required_argument, NULL, 'S'},
            {"debug", no_argument, NULL, 'd'},
            {},
        };
        const char *cmd;
        int c;

        log_setup(-1, LOG_FORMAT_TEXT, LOG_LEVEL_WARN);
        env.config_dir = getenv("BERTH_NETWORK_CONFIG_DIR");
        env.state_dir = getenv("BERTH_NETWORK_STATE_DIR");
        env.run_dir = getenv("BERTH_NETWORK_RUN_DIR");
        env.cni_path = getenv("BERTH_CNI_PATH");
        env.default_name = getenv("BERTH_NETWORK_DEFAULT_NAME");
        env.default_bridge = getenv("BERTH_NETWORK_DEFAULT_BRIDGE");
        env.default_subnet = getenv("BERTH_NETWORK_DEFAULT_SUBNET");
        while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        env.config_dir = optarg;
                        break;
                case 's':
                        env.state_dir = optarg;
                        break;
                case 'r':
                        env.run_dir = optarg;
                        break;
                case 'p':
                        env.cni_path = optarg;
                        break;
                case 'n':
                        env.default_name = optarg;
                        break;
                case 'b':
                        env.default_bridge = optarg;
                        break;
                case 'S':
                        env.default_subnet = optarg;
                        break;
                case 'd':
                        log_setup(-1, LOG_FORMAT_TEXT, LOG_LEVEL_DEBUG);
                        break;
                default:
                        return usage();
                }
        }
        if (optind >= argc)
                return usage();
        cmd = argv[optind];
        argc -= optind;
        argv += optind;
        optind = 0;
        if (streq(cmd, "create"))
                return cmd_create(argc, argv);
        if (streq(cmd, "ls"))
                return cmd_ls(argc, argv);
        if (streq(cmd, "inspect"))
                return cmd_inspect(argc, argv);
        if (streq(cmd, "rm"))
                return cmd_rm(argc, argv);
        if (streq(cmd, "mode"))
                return cmd_mode(argc, argv);
        if (streq(cmd, "netns-add") || streq(cmd, "netns-rm"))
                return cmd_netns(argc, argv, streq(cmd, "netns-add"));
        if (streq(cmd, "attach") || streq(cmd, "detach") || streq(cmd, "check"))
                return cmd_attach(argc, argv, cmd);
        if (streq(cmd, "ps"))
                return cmd_ps(argc, argv);
        if (streq(cmd, "hosts"))
                return cmd_hosts(argc, argv);
        if (streq(cmd, "ports"))
                return cmd_ports(argc, argv);
        return usage();
}
