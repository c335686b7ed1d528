/* SPDX-License-Identifier: Apache-2.0 */
#include "commands.h"

int cmd_resume(struct runtime_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {}};
        struct berr *err = NULL;
        int c;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
                return usage(command_find("resume"), c == 'h' ? 0 : 1);
        if (need_args("resume", argc - optind, 1, 1))
                return 1;
        if (container_resume(ctx, argv[optind], &err) < 0)
                return fail(err);
        return 0;
}
