/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>

#include "ctr-util.h"
#include "engine/engine.h"
#include "engine/manage.h"

static const struct berth_usage usage = {
    .usage = "berth update [options] CONTAINER [CONTAINER...]",
    .summary = "Update configuration of one or more containers",
    .options = "      --cpu-period N            limit CPU CFS (Completely Fair Scheduler) period\n"
               "      --cpu-quota N             limit CPU CFS (Completely Fair Scheduler) quota\n"
               "  -c, --cpu-shares N            CPU shares (relative weight)\n"
               "      --cpus DECIMAL            number of CPUs\n"
               "      --cpuset-cpus LIST        CPUs in which to allow execution (0-3, 0,1)\n"
               "      --cpuset-mems LIST        MEMs in which to allow execution (0-3, 0,1)\n"
               "  -m, --memory BYTES            memory limit\n"
               "      --memory-reservation BYTES  memory soft limit\n"
               "      --memory-swap BYTES       swap limit equal to memory plus swap: -1 for unlimited swap\n"
               "      --pids-limit N            tune container pids limit (-1 for unlimited)\n"
               "      --restart POLICY          restart policy to apply when a container exits\n",
};

enum {
        OPT_CPU_PERIOD = 0x100,
        OPT_CPU_QUOTA,
        OPT_CPUS,
        OPT_CPUSET_CPUS,
        OPT_CPUSET_MEMS,
        OPT_MEMORY_RESERVATION,
        OPT_MEMORY_SWAP,
        OPT_PIDS_LIMIT,
        OPT_RESTART,
};

int cmd_update(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"cpu-period", required_argument, NULL, OPT_CPU_PERIOD},
            {"cpu-quota", required_argument, NULL, OPT_CPU_QUOTA},
            {"cpu-shares", required_argument, NULL, 'c'},
            {"cpus", required_argument, NULL, OPT_CPUS},
            {"cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS},
            {"cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS},
            {"memory", required_argument, NULL, 'm'},
            {"memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION},
            {"memory-swap", required_argument, NULL, OPT_MEMORY_SWAP},
            {"pids-limit", required_argument, NULL, OPT_PIDS_LIMIT},
            {"restart", required_argument, NULL, OPT_RESTART},
            {}};
        _cleanup_berr_ struct berr *err = NULL;
        struct engine_update_opts o = {0};
        struct engine *e;
        bool any = false;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hc:m:", opts, NULL)) != -1) {
                any = true;
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case OPT_CPU_PERIOD:
                        o.cpu_period = optarg;
                        break;
                case OPT_CPU_QUOTA:
                        o.cpu_quota = optarg;
                        break;
                case 'c':
                        o.cpu_shares = optarg;
                        break;
                case OPT_CPUS:
                        o.cpus = optarg;
                        break;
                case OPT_CPUSET_CPUS:
                        o.cpuset_cpus = optarg;
                        break;
                case OPT_CPUSET_MEMS:
                        o.cpuset_mems = optarg;
                        break;
                case 'm':
                        o.memory = optarg;
                        break;
                case OPT_MEMORY_RESERVATION:
                        o.memory_reservation = optarg;
                        break;
                case OPT_MEMORY_SWAP:
                        o.memory_swap = optarg;
                        break;
                case OPT_PIDS_LIMIT:
                        o.pids_limit = optarg;
                        break;
                case OPT_RESTART:
                        o.restart = optarg;
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return berth_usage_error(&usage, "\"berth update\" requires at least 1 argument");
        if (!any)
                return berth_usage_error(&usage,
                                         "you must provide one or more flags when using this command");
        if (berth_engine(ctx, &e, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        for (int i = optind; i < argc; i++) {
                _cleanup_container_ struct container *ct = NULL;
                if (ctr_lookup(e, argv[i], &ct, &err) <= 0 || engine_container_update(e, ct, &o, &err) < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        continue;
                }
                printf("%s\n", argv[i]);
        }
        return ret;
}
