/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include "ctr-util.h"
#include "engine/copy.h"
#include "engine/engine.h"

static const struct berth_usage usage = {
    .usage = "berth export [options] CONTAINER",
    .summary = "Export a container's filesystem contents as a tar archive",
    .options = "  -o, --output FILE   write to a file, instead of STDOUT\n",
};

int cmd_export(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'}, {"output", required_argument, NULL, 'o'}, {}};
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_container_ struct container *ct = NULL;
        _cleanup_close_ int fd = -1;
        const char *output = NULL;
        struct engine *e;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'o':
                        output = optarg;
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (argc - optind != 1)
                return berth_usage_error(&usage, "\"berth export\" requires exactly 1 argument");
        if (!output && isatty(STDOUT_FILENO))
                return berth_failf(EXIT_BERTH,
                                   "cowardly refusing to save to a terminal. Use the -o flag or redirect");
        if (berth_engine(ctx, &e, &err) < 0 || ctr_lookup(e, argv[optind], &ct, &err) <= 0)
                return berth_fail(&err, EXIT_BERTH);
        if (output) {
                fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0) {
                        berr_errno(&err, "open `%s`", output);
                        return berth_fail(&err, EXIT_BERTH);
                }
        }
        if (engine_container_export(e, ct, output ? fd : STDOUT_FILENO, &err) < 0) {
                if (output)
                        unlink(output);
                return berth_fail(&err, EXIT_BERTH);
        }
        if (output && close(TAKE_FD(fd)) < 0) {
                berr_errno(&err, "write `%s`", output);
                return berth_fail(&err, EXIT_BERTH);
        }
        return 0;
}
