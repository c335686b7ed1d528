/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>

#include "ctr-util.h"
#include "engine/engine.h"
#include "engine/manage.h"

static const struct berth_usage usage = {
    .usage = "berth rename CONTAINER NEW_NAME",
    .summary = "Rename a container",
    .options = "",
};

int cmd_rename(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {}};
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_container_ struct container *ct = NULL;
        struct engine *e;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'h') {
                        berth_print_usage(stdout, &usage);
                        return 0;
                }
                return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
        }
        if (argc - optind != 2)
                return berth_usage_error(&usage, "\"berth rename\" requires exactly 2 arguments");
        if (berth_engine(ctx, &e, &err) < 0 || ctr_lookup(e, argv[optind], &ct, &err) <= 0 ||
            engine_container_rename(e, ct, argv[optind + 1], &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        return 0;
}
