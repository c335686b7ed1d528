/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>

#include "ctr-util.h"
#include "engine/engine.h"

static const struct berth_usage usage = {
    .usage = "berth wait CONTAINER [CONTAINER...]",
    .summary = "Block until one or more containers stop, then print their exit codes",
    .options = "",
};

int cmd_wait(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {}};
        _cleanup_berr_ struct berr *err = NULL;
        struct engine *e;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'h') {
                        berth_print_usage(stdout, &usage);
                        return 0;
                }
                return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
        }
        if (optind >= argc)
                return berth_usage_error(&usage, "\"berth wait\" requires at least 1 argument");
        if (berth_engine(ctx, &e, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        for (int i = optind; i < argc; i++) {
                _cleanup_container_ struct container *ct = NULL;
                int code;
                if (ctr_lookup(e, argv[i], &ct, &err) <= 0 ||
                    engine_container_wait(e, ct->id, &code, &err) < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        continue;
                }
                printf("%d\n", code);
                fflush(stdout);
        }
        return ret;
}
