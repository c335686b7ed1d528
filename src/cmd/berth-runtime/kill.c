/* SPDX-License-Identifier: Apache-2.0 */
#include <signal.h>

#include "commands.h"

int cmd_kill(struct runtime_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {}};
        struct berr *err = NULL;
        bool all = false;
        int c, sig = SIGTERM;

        while ((c = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
                if (c == 'a')
                        all = true;
                else
                        return usage(command_find("kill"), c == 'h' ? 0 : 1);
        }
        if (need_args("kill", argc - optind, 1, 2))
                return 1;
        if (argc - optind == 2) {
                sig = signal_parse(argv[optind + 1]);
                if (sig < 0)
                        return fail_msg("unknown signal `%s`", argv[optind + 1]);
        }
        if (container_kill(ctx, argv[optind], sig, all, &err) < 0)
                return fail(err);
        return 0;
}
