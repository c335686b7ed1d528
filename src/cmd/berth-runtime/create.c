/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"

/* create and run share their flags; run adds --detach and --keep. */
static int create_or_run(struct runtime_ctx *ctx, int argc, char **argv, bool run)
{
        static const struct option opts[] = {
                {"bundle", required_argument, NULL, 'b'},
                {"console-socket", required_argument, NULL, 'c'},
                {"pid-file", required_argument, NULL, 'p'},
                {"no-pivot", no_argument, NULL, 'P'},
                {"no-new-keyring", no_argument, NULL, 'K'},
                {"preserve-fds", required_argument, NULL, 'F'},
                {"detach", no_argument, NULL, 'd'},
                {"keep", no_argument, NULL, 'k'},
                {"no-subreaper", no_argument, NULL, 'S'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const struct command *cmd = command_find(run ? "run" : "create");
        struct create_opts o = {.mode = run ? CREATE_MODE_RUN : CREATE_MODE_CREATE};
        struct berr *err = NULL;
        int c, status = 0;
        char *end;

        while ((c = getopt_long(argc, argv, run ? "b:dh" : "b:h", opts, NULL)) != -1) {
                switch (c) {
                case 'b':
                        o.bundle = optarg;
                        break;
                case 'c':
                        o.console_socket = optarg;
                        break;
                case 'p':
                        o.pid_file = optarg;
                        break;
                case 'P':
                        o.no_pivot = true;
                        break;
                case 'K':
                        o.no_new_keyring = true;
                        break;
                case 'F':
                        o.preserve_fds = (int)strtol(optarg, &end, 10);
                        if (*end || o.preserve_fds < 0 || o.preserve_fds > 65536)
                                return fail_msg("--preserve-fds: invalid number `%s`", optarg);
                        break;
                case 'd':
                case 'k':
                        if (!run)
                                return usage(cmd, 1);
                        if (c == 'd')
                                o.mode = CREATE_MODE_RUN_DETACHED;
                        else
                                o.keep = true;
                        break;
                case 'S':
                        break;
                case 'h':
                        return usage(cmd, 0);
                default:
                        return usage(cmd, 1);
                }
        }
        if (need_args(cmd->name, argc - optind, 1, 1))
                return 1;
        o.id = argv[optind];
        if (container_create(ctx, &o, &status, &err) < 0)
                return fail(err);
        return o.mode == CREATE_MODE_RUN ? status : 0;
}

int cmd_create(struct runtime_ctx *ctx, int argc, char **argv)
{
        return create_or_run(ctx, argc, argv, false);
}

int cmd_run(struct runtime_ctx *ctx, int argc, char **argv)
{
        return create_or_run(ctx, argc, argv, true);
}
