/* SPDX-License-Identifier: Apache-2.0 */
/* berth network create|ls|inspect|rm|prune|exists over src/network: podman's flags and output. */
#include <getopt.h>
#include <regex.h>
#include <string.h>

#include "basic/json.h"
#include "basic/strv.h"
#include "berth.h"
#include "objcmd.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"
#include "network/network.h"

/* Where networks live: the engine's configuration says. */
static int net_env(struct berth_ctx *ctx, const struct network_env **out, struct berr **err)
{
        struct engine *e;

        if (berth_engine(ctx, &e, err) < 0)
                return -1;
        *out = &e->net;
        return 0;
}

static json_object *network_object(struct network *n, struct berr **err)
{
        _cleanup_free_ char *text = NULL;
        json_object *arr = NULL, *o;

        if (network_inspect_json(&n, 1, &text, err) < 0 ||
            json_parse_buf(text, strlen(text), "network", &arr, err) < 0)
                return NULL;
        o = json_object_get(json_object_array_get_idx(arr, 0));
        json_object_put(arr);
        return o;
}

/* ---- create ---- */

/* docker's network events: the id, with the name and driver as attributes. */
static void net_event(struct berth_ctx *ctx, const char *action, const struct network *n)
{
        berth_event(ctx, "network", action, n->id,
                    (const char *const[]){"name", n->name, "type", n->driver ? n->driver : "bridge", NULL});
}

static const struct berth_usage create_usage = {
    .usage = "berth network create [options] [NAME]",
    .summary = "Create a network",
    .options =
        "  -d, --driver DRIVER          network driver (only \"bridge\")\n"
        "      --gateway IP             gateway of the subnet (one per --subnet, in order)\n"
        "      --ignore                 do not fail when the network exists\n"
        "      --interface-name NAME    bridge interface (default: the first free berthN)\n"
        "      --internal               no gateway, no masquerading: containers reach only each other\n"
        "  -l, --label KEY=VALUE        set metadata on the network\n"
        "      --subnet CIDR            subnet (default: the first free 10.89.N.0/24)\n",
};

enum { OPT_GATEWAY = 0x100, OPT_IGNORE, OPT_INTERFACE, OPT_INTERNAL, OPT_SUBNET };

static int network_create_cmd(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"driver", required_argument, NULL, 'd'},
            {"gateway", required_argument, NULL, OPT_GATEWAY},
            {"ignore", no_argument, NULL, OPT_IGNORE},
            {"interface-name", required_argument, NULL, OPT_INTERFACE},
            {"internal", no_argument, NULL, OPT_INTERNAL},
            {"label", required_argument, NULL, 'l'},
            {"subnet", required_argument, NULL, OPT_SUBNET},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_strv_free_ char **subnets = NULL, **gateways = NULL, **labels = NULL;
        _cleanup_(network_freep) struct network *net = NULL;
        struct network_create_opts o = {0};
        const struct network_env *env;
        bool ignore = false;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hd:l:", opts, NULL)) != -1) {
                char ***list = NULL;
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &create_usage);
                        return 0;
                case 'd':
                        if (!streq(optarg, "bridge"))
                                return berth_failf(
                                    EXIT_BERTH, "unsupported driver %s: berth networks are bridges", optarg);
                        break;
                case OPT_GATEWAY:
                        list = &gateways;
                        break;
                case OPT_IGNORE:
                        ignore = true;
                        break;
                case OPT_INTERFACE:
                        o.bridge = optarg;
                        break;
                case OPT_INTERNAL:
                        o.internal = true;
                        break;
                case 'l':
                        list = &labels;
                        break;
                case OPT_SUBNET:
                        list = &subnets;
                        break;
                default:
                        return berth_usage_error(&create_usage, "unknown flag: %s", argv[optind - 1]);
                }
                if (list && strv_extend(list, optarg) < 0)
                        return berth_failf(EXIT_BERTH, "out of memory");
        }
        if (argc - optind > 1)
                return berth_usage_error(&create_usage, "accepts at most 1 arg(s), received %d",
                                         argc - optind);
        if (net_env(ctx, &env, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (optind < argc) {
                o.name = argv[optind];
        } else {
                /* podman's generated names: berth1, berth2, ... */
                static char name[32];
                for (unsigned i = 1; i < 10000 && !o.name; i++) {
                        _cleanup_(network_freep) struct network *n = NULL;
                        snprintf(name, sizeof(name), "berth%u", i);
                        if (network_get(env, name, &n, &err) < 0) {
                                if (err->code != ENOENT)
                                        return berth_fail(&err, EXIT_BERTH);
                                berr_freep(&err);
                                o.name = name;
                        }
                }
        }
        o.subnets = (const char *const *)subnets;
        o.gateways = (const char *const *)gateways;
        o.labels = (const char *const *)labels;
        if (network_create(env, &o, &net, &err) < 0) {
                if (ignore && err->code == EEXIST && network_get(env, o.name, &net, NULL) == 0) {
                        printf("%s\n", o.name);
                        return 0;
                }
                return berth_fail(&err, EXIT_BERTH);
        }
        net_event(ctx, "create", net);
        printf("%s\n", net->name);
        return 0;
}

/* ---- ls ---- */

static const struct berth_usage ls_usage = {
    .usage = "berth network ls [options]",
    .summary = "List networks",
    .options = "  -f, --filter FILTER   name=REGEX, id=PREFIX, driver=bridge, label=KEY[=VALUE]\n"
               "      --format FORMAT   json, or a Go template (e.g. '{{.Name}} {{.Driver}}')\n"
               "      --no-trunc        do not truncate network IDs\n"
               "  -q, --quiet           print only network names\n",
};

struct net_filters {
        char **names, **ids, **drivers, **labels;
};

static void net_filters_done(struct net_filters *f)
{
        strv_free(f->names);
        strv_free(f->ids);
        strv_free(f->drivers);
        strv_free(f->labels);
}

static int net_filter_add(const struct berth_usage *u, struct net_filters *f, const char *arg, bool prune)
{
        const char *eq = strchr(arg, '=');
        char ***list = NULL;

        if (eq && strneq(arg, "label=", 6))
                list = &f->labels;
        else if (eq && !prune && strneq(arg, "name=", 5))
                list = &f->names;
        else if (eq && !prune && strneq(arg, "id=", 3))
                list = &f->ids;
        else if (eq && !prune && strneq(arg, "driver=", 7))
                list = &f->drivers;
        if (!list)
                return berth_usage_error(u, "invalid filter `%s` (%s)", arg,
                                         prune ? "prune takes label=" : "name, id, driver, label");
        if (list == &f->names) {
                regex_t re;
                if (regcomp(&re, eq + 1, REG_EXTENDED | REG_NOSUB) != 0)
                        return berth_usage_error(u, "invalid filter `%s`: not a regular expression", arg);
                regfree(&re);
        }
        return strv_extend(list, eq + 1) < 0 ? berth_failf(EXIT_BERTH, "out of memory") : 0;
}

static bool label_match(char *const *have, const char *want)
{
        const char *eq = strchr(want, '=');
        size_t klen = eq ? (size_t)(eq - want) : strlen(want);

        for (size_t i = 0; have && have[i] && have[i + 1]; i += 2)
                if (strlen(have[i]) == klen && strneq(have[i], want, klen))
                        return !eq || streq(have[i + 1], eq + 1);
        return false;
}

/* podman: values of one key are alternatives, different keys must all match. */
static bool net_filters_match(const struct net_filters *f, const struct network *n)
{
        bool ok;

        if (f->names) {
                ok = false;
                STRV_FOREACH (p, f->names) {
                        regex_t re;
                        if (regcomp(&re, *p, REG_EXTENDED | REG_NOSUB) == 0) {
                                ok = ok || regexec(&re, n->name, 0, NULL, 0) == 0;
                                regfree(&re);
                        }
                }
                if (!ok)
                        return false;
        }
        if (f->ids) {
                ok = false;
                STRV_FOREACH (p, f->ids)
                        ok = ok || strneq(n->id, *p, strlen(*p));
                if (!ok)
                        return false;
        }
        if (f->drivers && !strv_contains(f->drivers, n->driver))
                return false;
        STRV_FOREACH (l, f->labels)
                if (!label_match(n->labels, *l))
                        return false;
        return true;
}

static void print_warnings(char **warnings)
{
        STRV_FOREACH (w, warnings)
                fprintf(stderr, "WARN[0000] %s\n", *w);
}

static int network_ls_cmd(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},         {"filter", required_argument, NULL, 'f'},
            {"format", required_argument, NULL, 'F'}, {"no-trunc", no_argument, NULL, 'n'},
            {"quiet", no_argument, NULL, 'q'},        {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_(network_freep) struct network *def = NULL;
        _cleanup_free_ char *def_name = NULL;
        enum network_mode mode;
        struct net_filters f = {0};
        const struct network_env *env;
        const char *format = NULL;
        struct network **v = NULL;
        bool quiet = false, no_trunc = false;
        size_t n = 0;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hf:q", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &ls_usage);
                        net_filters_done(&f);
                        return 0;
                case 'f':
                        ret = net_filter_add(&ls_usage, &f, optarg, false);
                        if (ret) {
                                net_filters_done(&f);
                                return ret;
                        }
                        break;
                case 'F':
                        format = optarg;
                        break;
                case 'n':
                        no_trunc = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        net_filters_done(&f);
                        return berth_usage_error(&ls_usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind < argc) {
                net_filters_done(&f);
                return berth_usage_error(&ls_usage, "too many arguments");
        }
        /* The default network is always listed, as podman's is: network_get() writes it on first use. */
        if (net_env(ctx, &env, &err) < 0 || network_mode_parse(env, "bridge", &mode, &def_name, &err) < 0 ||
            network_get(env, def_name, &def, &err) < 0 || network_list(env, &v, &n, &warnings, &err) < 0) {
                net_filters_done(&f);
                return berth_fail(&err, EXIT_BERTH);
        }
        print_warnings(warnings);
        if (format && streq(format, "json")) {
                json_object *arr = json_object_new_array();
                for (size_t i = 0; i < n && ret == 0; i++) {
                        json_object *o;
                        if (!net_filters_match(&f, v[i]))
                                continue;
                        o = network_object(v[i], &err);
                        if (!o)
                                ret = berth_fail(&err, EXIT_BERTH);
                        else
                                json_object_array_add(arr, o);
                }
                if (ret == 0)
                        printf("%s\n", json_to_string(arr, true));
                json_object_put(arr);
        } else if (quiet) {
                for (size_t i = 0; i < n; i++)
                        if (net_filters_match(&f, v[i]))
                                printf("%s\n", v[i]->name);
        } else if (format) {
                if (format_is_table(format))
                        format_table_header(format, stdout);
                for (size_t i = 0; i < n && ret == 0; i++) {
                        json_object *o, *x;
                        if (!net_filters_match(&f, v[i]))
                                continue;
                        o = network_object(v[i], &err);
                        if (!o) {
                                ret = berth_fail(&err, EXIT_BERTH);
                                break;
                        }
                        /* podman's template names besides the inspect fields. */
                        json_object_object_add(o, "Name", json_object_new_string(v[i]->name));
                        json_object_object_add(o, "ID", json_object_new_string(v[i]->id));
                        json_object_object_add(o, "Driver", json_object_new_string(v[i]->driver));
                        if (json_object_object_get_ex(o, "labels", &x))
                                json_object_object_add(o, "Labels", json_object_get(x));
                        if (format_template(format, o, stdout, &err) < 0)
                                ret = berth_fail(&err, EXIT_BERTH);
                        json_object_put(o);
                }
        } else {
                struct table *t = table_new(3);
                table_add(t, (const char *[]){"NETWORK ID", "NAME", "DRIVER"});
                for (size_t i = 0; i < n; i++) {
                        char id[13];
                        if (!net_filters_match(&f, v[i]))
                                continue;
                        snprintf(id, sizeof(id), "%s", v[i]->id);
                        table_add(t, (const char *[]){no_trunc ? v[i]->id : id, v[i]->name, v[i]->driver});
                }
                table_print(t, stdout);
                table_free(t);
        }
        network_freev(v, n);
        net_filters_done(&f);
        return ret;
}

/* ---- inspect ---- */

static const struct berth_usage inspect_usage = {
    .usage = "berth network inspect [options] NETWORK [NETWORK...]",
    .summary = "Display detailed information on one or more networks",
    .options = "  -f, --format FORMAT   a Go template (e.g. '{{.network_interface}}')\n",
};

static int network_inspect_cmd(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"format", required_argument, NULL, 'f'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        const struct network_env *env;
        const char *format = NULL;
        json_object *arr;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hf:", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &inspect_usage);
                        return 0;
                case 'f':
                        format = optarg;
                        break;
                default:
                        return berth_usage_error(&inspect_usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return berth_usage_error(&inspect_usage, "requires at least 1 arg(s), only received 0");
        if (net_env(ctx, &env, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        arr = json_object_new_array();
        for (int i = optind; i < argc; i++) {
                _cleanup_(network_freep) struct network *net = NULL;
                json_object *o;
                if (network_get(env, argv[i], &net, &err) < 0 || !(o = network_object(net, &err))) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        continue;
                }
                json_object_array_add(arr, o);
        }
        return berth_print_inspect(arr, format, ret);
}

/* podman's rm -f: the containers attached to the network go first (killed when running). */
static int remove_users(struct berth_ctx *ctx, struct engine *e, const char *name, struct berr **err)
{
        struct network_attachment **v = NULL;
        size_t n = 0;
        int r = 0;

        (void)ctx;
        if (network_attachments_list(&e->net, name, &v, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n && r == 0; i++) {
                if (engine_container_remove(e, v[i]->container_id, true, false, err) == 0)
                        continue;
                if ((*err)->code == ENOENT)
                        berr_freep(err);
                else
                        r = -1;
        }
        network_attachmentv_free(v, n);
        return r;
}

/* By name or id; the event names the network removed. */
static int remove_one(struct berth_ctx *ctx, struct engine *e, const char *name, struct berr **err)
{
        _cleanup_(network_freep) struct network *net = NULL;

        if (network_get(&e->net, name, &net, NULL) < 0)
                return network_remove(&e->net, name, false, err);
        if (network_remove(&e->net, net->name, false, err) < 0)
                return -1;
        net_event(ctx, "destroy", net);
        return 0;
}

/* ---- rm ---- */

static const struct berth_usage rm_usage = {
    .usage = "berth network rm [options] NETWORK [NETWORK...]",
    .summary = "Remove one or more networks",
    .options =
        "  -f, --force   remove the containers that use the network first; missing networks are no error\n",
};

static int network_rm_cmd(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct berth_rm_ops ops = {.remove_users = remove_users, .remove = remove_one};

        return berth_rm_command(ctx, argc, argv, &rm_usage, &ops);
}

/* Removes the networks f matches that no container uses, printing each name
 * (under header when one is given and something goes); the default network stays. */
static int prune_networks(struct berth_ctx *ctx, const struct net_filters *f, const char *header)
{
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_strv_free_ char **warnings = NULL;
        const struct network_env *env;
        struct network **v = NULL;
        size_t n = 0, removed = 0;
        int ret = 0;

        if (net_env(ctx, &env, &err) < 0 || network_list(env, &v, &n, &warnings, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        print_warnings(warnings);
        for (size_t i = 0; i < n; i++) {
                /* network_remove refuses the default network and networks in use. */
                if ((f && !net_filters_match(f, v[i])) || network_remove(env, v[i]->name, false, &err) < 0) {
                        if (err && err->code != EBUSY && err->code != EPERM && err->code != ENOENT)
                                ret = berth_fail(&err, EXIT_BERTH);
                        berr_freep(&err);
                        continue;
                }
                net_event(ctx, "destroy", v[i]);
                if (header && removed == 0)
                        printf("%s\n", header);
                removed++;
                printf("%s\n", v[i]->name);
        }
        if (header && removed)
                printf("\n");
        network_freev(v, n);
        return ret;
}

int berth_prune_networks(struct berth_ctx *ctx)
{
        return prune_networks(ctx, NULL, "Deleted Networks:");
}

static const struct berth_usage prune_usage = {
    .usage = "berth network prune [options]",
    .summary = "Remove networks no container uses",
    .options = "      --filter FILTER   label=KEY[=VALUE]\n"
               "  -f, --force           do not prompt for confirmation\n",
};

static int network_prune_cmd(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"filter", required_argument, NULL, 'F'},
            {"force", no_argument, NULL, 'f'},
            {},
        };
        struct net_filters f = {0};
        bool force = false;
        char line[16];
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hf", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &prune_usage);
                        net_filters_done(&f);
                        return 0;
                case 'F':
                        ret = net_filter_add(&prune_usage, &f, optarg, true);
                        if (ret) {
                                net_filters_done(&f);
                                return ret;
                        }
                        break;
                case 'f':
                        force = true;
                        break;
                default:
                        net_filters_done(&f);
                        return berth_usage_error(&prune_usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind < argc) {
                net_filters_done(&f);
                return berth_usage_error(&prune_usage, "too many arguments");
        }
        if (!force) {
                fprintf(stderr, "WARNING! This will remove all networks not used by at least one container.\n"
                                "Are you sure you want to continue? [y/N] ");
                fflush(stderr);
                if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y')) {
                        net_filters_done(&f);
                        return 0;
                }
        }
        ret = prune_networks(ctx, &f, NULL);
        net_filters_done(&f);
        return ret;
}

/* ---- exists ---- */

static int network_exists_cmd(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct berth_usage usage = {
            .usage = "berth network exists NETWORK",
            .summary = "Check if a network exists (exit 0 if it does, 1 if not)",
        };
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_(network_freep) struct network *net = NULL;
        const struct network_env *env;

        if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                berth_print_usage(stdout, &usage);
                return 0;
        }
        if (argc != 2)
                return berth_usage_error(&usage, "requires exactly 1 arg(s), received %d", argc - 1);
        if (net_env(ctx, &env, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (network_get(env, argv[1], &net, &err) < 0)
                return err->code == ENOENT ? 1 : berth_fail(&err, EXIT_BERTH);
        return 0;
}

static const struct berth_command network_commands[] = {
    {"create", network_create_cmd, "Create a network", false},
    {"exists", network_exists_cmd, "Check if a network exists", false},
    {"inspect", network_inspect_cmd, "Display detailed information on one or more networks", false},
    {"list", network_ls_cmd, "List networks", true},
    {"ls", network_ls_cmd, "List networks", false},
    {"prune", network_prune_cmd, "Remove networks no container uses", false},
    {"remove", network_rm_cmd, "Remove one or more networks", true},
    {"rm", network_rm_cmd, "Remove one or more networks", false},
};

int cmd_network(struct berth_ctx *ctx, int argc, char **argv)
{
        return berth_group(ctx, "network", network_commands, ARRAY_SIZE(network_commands), argc, argv);
}
