/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>

#include "ctr-util.h"
#include "engine/engine.h"

static const struct berth_usage usage = {
    .usage = "berth start [options] CONTAINER [CONTAINER...]",
    .summary = "Start one or more containers",
    .options = "  -a, --attach              attach to the container's output (one container)\n"
               "      --detach-keys KEYS    keys to detach (default \"ctrl-p,ctrl-q\")\n"
               "  -i, --interactive         attach the container's stdin\n"
               "      --sig-proxy BOOL      pass received signals to the container (default true with -a)\n",
};

static int start_attached(struct engine *e, const char *input, bool interactive, const char *keys,
                          bool sig_proxy)
{
        _cleanup_container_ struct container *c = NULL;
        _cleanup_attach_conn_ struct attach_conn *conn = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct attach_session as = {0};
        int code;

        if (ctr_lookup(e, input, &c, &err) <= 0)
                return berth_fail(&err, EXIT_BERTH);
        if (ctr_parse_detach_keys(keys, &as) < 0)
                return berth_failf(EXIT_BERTH, "--detach-keys: invalid sequence `%s`", keys);
        if (engine_container_start(e, c->id, &conn, &err) < 0)
                return berth_fail(&err, engine_exit_code_for(err ? err->msg : NULL));
        if (!conn)
                return berth_failf(EXIT_BERTH, "container %s is already running: use `berth attach`",
                                   c->name);
        as.conn = conn;
        as.tty = conn->terminal;
        as.forward_stdin = interactive && conn->stdin_open;
        as.sig_proxy = sig_proxy && !as.tty;
        as.engine = e;
        as.id = c->id;
        code = ctr_attach_session(&as, &err);
        if (code == ATTACH_DETACHED)
                return 0;
        if (code < 0)
                return berth_fail(&err, EXIT_BERTH);
        return code;
}

int cmd_start(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"attach", no_argument, NULL, 'a'},
            {"interactive", no_argument, NULL, 'i'},
            {"detach-keys", required_argument, NULL, 'k'},
            {"sig-proxy", optional_argument, NULL, 's'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        const char *keys = "ctrl-p,ctrl-q";
        bool attach = false, interactive = false, sig_proxy = true;
        struct engine *e;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hai", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'a':
                        attach = true;
                        break;
                case 'i':
                        interactive = true;
                        break;
                case 'k':
                        keys = optarg;
                        break;
                case 's':
                        if (parse_bool(optarg, &sig_proxy) < 0)
                                return berth_usage_error(&usage, "--sig-proxy: invalid boolean `%s`", optarg);
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return berth_usage_error(&usage, "\"berth start\" requires at least 1 argument");
        if ((attach || interactive) && argc - optind > 1)
                return berth_usage_error(&usage, "you cannot attach to more than one container at a time");
        if (berth_engine(ctx, &e, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (attach || interactive)
                return start_attached(e, argv[optind], interactive, keys, sig_proxy);
        for (int i = optind; i < argc; i++) {
                _cleanup_container_ struct container *ct = NULL;
                if (ctr_lookup(e, argv[i], &ct, &err) <= 0 ||
                    engine_container_start(e, ct->id, NULL, &err) < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        continue;
                }
                printf("%s\n", argv[i]);
        }
        return ret;
}
