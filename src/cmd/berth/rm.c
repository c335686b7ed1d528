/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>

#include "ctr-util.h"
#include "engine/engine.h"

static const struct berth_usage usage = {
    .usage = "berth rm [options] CONTAINER [CONTAINER...]",
    .summary = "Remove one or more containers",
    .options = "  -f, --force     kill a running container first\n"
               "  -v, --volumes   also remove its anonymous volumes\n",
};

int cmd_rm(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                             {"force", no_argument, NULL, 'f'},
                                             {"volumes", no_argument, NULL, 'v'},
                                             {}};
        _cleanup_berr_ struct berr *err = NULL;
        struct engine *e;
        bool force = false, volumes = false;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hfv", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'f':
                        force = true;
                        break;
                case 'v':
                        volumes = true;
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return berth_usage_error(&usage, "\"berth rm\" requires at least 1 argument");
        if (berth_engine(ctx, &e, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        for (int i = optind; i < argc; i++) {
                _cleanup_container_ struct container *ct = NULL;
                if (ctr_lookup(e, argv[i], &ct, &err) <= 0 ||
                    engine_container_remove(e, ct->id, force, volumes, &err) < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        continue;
                }
                printf("%s\n", argv[i]);
        }
        return ret;
}
