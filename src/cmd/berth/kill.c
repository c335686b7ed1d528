/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <signal.h>

#include "ctr-util.h"
#include "engine/engine.h"

static const struct berth_usage usage = {
    .usage = "berth kill [options] CONTAINER [CONTAINER...]",
    .summary = "Kill one or more running containers with a signal",
    .options = "  -s, --signal SIGNAL   signal to send (default KILL)\n",
};

int cmd_kill(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'}, {"signal", required_argument, NULL, 's'}, {}};
        _cleanup_berr_ struct berr *err = NULL;
        struct engine *e;
        int c, ret = 0, sig = SIGKILL;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hs:", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 's':
                        if (engine_parse_signal("--signal", optarg, &sig, &err) < 0)
                                return berth_fail(&err, EXIT_BERTH);
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return berth_usage_error(&usage, "\"berth kill\" requires at least 1 argument");
        if (berth_engine(ctx, &e, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        for (int i = optind; i < argc; i++) {
                _cleanup_container_ struct container *ct = NULL;
                if (ctr_lookup(e, argv[i], &ct, &err) <= 0 ||
                    engine_container_kill(e, ct->id, sig, &err) < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        continue;
                }
                printf("%s\n", argv[i]);
        }
        return ret;
}
