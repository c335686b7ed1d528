/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>

#include "ctr-util.h"
#include "engine/engine.h"

static const struct berth_usage usage = {
    .usage = "berth attach [options] CONTAINER",
    .summary = "Attach to a running container's input and output",
    .options = "      --detach-keys KEYS   keys to detach (default \"ctrl-p,ctrl-q\")\n"
               "      --no-stdin           do not attach stdin\n"
               "      --sig-proxy BOOL     pass received signals to the container (default true)\n",
};

int cmd_attach(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"detach-keys", required_argument, NULL, 'k'},
            {"no-stdin", no_argument, NULL, 'n'},
            {"sig-proxy", optional_argument, NULL, 's'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_container_ struct container *ct = NULL;
        _cleanup_attach_conn_ struct attach_conn *conn = NULL;
        _cleanup_free_ char *state_dir = NULL;
        struct attach_session as = {0};
        const char *keys = "ctrl-p,ctrl-q";
        bool no_stdin = false, sig_proxy = true;
        struct container_state st;
        struct engine *e;
        int c, code;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'k':
                        keys = optarg;
                        break;
                case 'n':
                        no_stdin = true;
                        break;
                case 's':
                        if (parse_bool(optarg, &sig_proxy) < 0)
                                return berth_usage_error(&usage, "--sig-proxy: invalid boolean `%s`", optarg);
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (argc - optind != 1)
                return berth_usage_error(&usage, "\"berth attach\" requires exactly 1 argument");
        if (ctr_parse_detach_keys(keys, &as) < 0)
                return berth_failf(EXIT_BERTH, "--detach-keys: invalid sequence `%s`", keys);
        if (berth_engine(ctx, &e, &err) < 0 || ctr_lookup(e, argv[optind], &ct, &err) <= 0 ||
            container_state_derive(e, ct, &st, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        code = st.status;
        container_state_done(&st);
        if (code != CONTAINER_RUNNING && code != CONTAINER_PAUSED)
                return berth_failf(EXIT_BERTH, "you cannot attach to a stopped container, start it first");
        state_dir = engine_state_dir(e, ct->id);
        if (!state_dir || attach_connect(state_dir, &conn, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        as.conn = conn;
        as.tty = conn->terminal;
        as.forward_stdin = !no_stdin && conn->stdin_open;
        as.sig_proxy = sig_proxy && !as.tty;
        as.engine = e;
        as.id = ct->id;
        code = ctr_attach_session(&as, &err);
        if (code == ATTACH_DETACHED)
                return 0;
        if (code < 0)
                return berth_fail(&err, EXIT_BERTH);
        return code;
}
