/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>

#include "ctr-util.h"
#include "engine/engine.h"
#include "engine/spec-internal.h"

static const struct berth_usage stop_usage = {
    .usage = "berth stop [options] CONTAINER [CONTAINER...]",
    .summary = "Stop one or more running containers",
    .options =
        "  -t, --time SECONDS   seconds to wait before killing the container (default: its stop timeout)\n",
};

static const struct berth_usage restart_usage = {
    .usage = "berth restart [options] CONTAINER [CONTAINER...]",
    .summary = "Restart one or more containers",
    .options =
        "  -t, --time SECONDS   seconds to wait before killing the container (default: its stop timeout)\n",
};

typedef int (*stop_op)(struct engine *e, const char *id, int timeout, struct berr **err);

/* stop and restart: the same flags and per-container reporting, another engine call. */
static int stop_or_restart(struct berth_ctx *ctx, int argc, char **argv, const char *name,
                           const struct berth_usage *usage, stop_op op)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                             {"time", required_argument, NULL, 't'},
                                             {"timeout", required_argument, NULL, 't'},
                                             {}};
        _cleanup_berr_ struct berr *err = NULL;
        struct engine *e;
        int64_t timeout = -1;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "ht:", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, usage);
                        return 0;
                case 't':
                        if (engine_parse_int("--time", optarg, -1, 24 * 3600, &timeout, &err) < 0)
                                return berth_fail(&err, EXIT_BERTH);
                        break;
                default:
                        return berth_usage_error(usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return berth_usage_error(usage, "\"berth %s\" requires at least 1 argument", name);
        if (berth_engine(ctx, &e, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        for (int i = optind; i < argc; i++) {
                _cleanup_container_ struct container *ct = NULL;
                if (ctr_lookup(e, argv[i], &ct, &err) <= 0 || op(e, ct->id, (int)timeout, &err) < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        continue;
                }
                printf("%s\n", argv[i]);
        }
        return ret;
}

int cmd_stop(struct berth_ctx *ctx, int argc, char **argv)
{
        return stop_or_restart(ctx, argc, argv, "stop", &stop_usage, engine_container_stop);
}

int cmd_restart(struct berth_ctx *ctx, int argc, char **argv)
{
        return stop_or_restart(ctx, argc, argv, "restart", &restart_usage, engine_container_restart);
}
