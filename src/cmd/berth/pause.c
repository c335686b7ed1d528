/* SPDX-License-Identifier: Apache-2.0 */
/* berth pause and unpause: the same loop over containers, one runtime command each. */
#include <getopt.h>

#include "ctr-util.h"
#include "engine/engine.h"
#include "engine/manage.h"

static const struct berth_usage pause_usage = {
    .usage = "berth pause CONTAINER [CONTAINER...]",
    .summary = "Pause all processes within one or more containers",
    .options = "",
};

static const struct berth_usage unpause_usage = {
    .usage = "berth unpause CONTAINER [CONTAINER...]",
    .summary = "Unpause all processes within one or more containers",
    .options = "",
};

static int each(struct berth_ctx *ctx, const struct berth_usage *u, int argc, char **argv,
                int (*op)(struct engine *, const struct container *, struct berr **))
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {}};
        _cleanup_berr_ struct berr *err = NULL;
        struct engine *e;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'h') {
                        berth_print_usage(stdout, u);
                        return 0;
                }
                return berth_usage_error(u, "unknown flag: %s", argv[optind - 1]);
        }
        if (optind >= argc)
                return berth_usage_error(u, "\"berth %s\" requires at least 1 argument", argv[0]);
        if (berth_engine(ctx, &e, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        for (int i = optind; i < argc; i++) {
                _cleanup_container_ struct container *ct = NULL;
                if (ctr_lookup(e, argv[i], &ct, &err) <= 0 || op(e, ct, &err) < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        continue;
                }
                printf("%s\n", argv[i]);
        }
        return ret;
}

int cmd_pause(struct berth_ctx *ctx, int argc, char **argv)
{
        return each(ctx, &pause_usage, argc, argv, engine_container_pause);
}

int cmd_unpause(struct berth_ctx *ctx, int argc, char **argv)
{
        return each(ctx, &unpause_usage, argc, argv, engine_container_unpause);
}
