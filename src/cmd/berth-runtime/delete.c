/* SPDX-License-Identifier: Apache-2.0 */
#include "commands.h"

int cmd_delete(struct runtime_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {}};
        bool force = false;
        int c, status = 0;

        while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
                if (c == 'f')
                        force = true;
                else
                        return usage(command_find("delete"), c == 'h' ? 0 : 1);
        }
        if (need_args("delete", argc - optind, 1, -1))
                return 1;
        for (int i = optind; i < argc; i++) {
                struct berr *err = NULL;
                if (container_delete(ctx, argv[i], force, &err) < 0)
                        status = fail(err);
        }
        return status;
}
