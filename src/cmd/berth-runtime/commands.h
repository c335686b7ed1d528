/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <getopt.h>
#include <stdbool.h>

#include "basic/error.h"
#include "runtime/container.h"

/* Each command parses its own flags from argv (argv[0] is the command name)
 * and returns the process exit status. */
struct command {
        const char *name;
        int (*run)(struct runtime_ctx *ctx, int argc, char **argv);
        bool spawns; /* puts processes into a container: runs from a sealed copy */
        const char *usage;
        const char *summary;
};

int cmd_create(struct runtime_ctx *ctx, int argc, char **argv);
int cmd_run(struct runtime_ctx *ctx, int argc, char **argv);
int cmd_start(struct runtime_ctx *ctx, int argc, char **argv);
int cmd_state(struct runtime_ctx *ctx, int argc, char **argv);
int cmd_kill(struct runtime_ctx *ctx, int argc, char **argv);
int cmd_delete(struct runtime_ctx *ctx, int argc, char **argv);
int cmd_list(struct runtime_ctx *ctx, int argc, char **argv);
int cmd_exec(struct runtime_ctx *ctx, int argc, char **argv);
int cmd_ps(struct runtime_ctx *ctx, int argc, char **argv);
int cmd_spec(struct runtime_ctx *ctx, int argc, char **argv);
int cmd_features(struct runtime_ctx *ctx, int argc, char **argv);
int cmd_update(struct runtime_ctx *ctx, int argc, char **argv);
int cmd_pause(struct runtime_ctx *ctx, int argc, char **argv);
int cmd_resume(struct runtime_ctx *ctx, int argc, char **argv);
int cmd_events(struct runtime_ctx *ctx, int argc, char **argv);

/* Prints "berth-runtime: <msg>" (and logs it); returns exit status 1. */
int fail(struct berr *err);
int fail_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the usage of the current command and returns 1 (bad flags) or 0 (--help). */
int usage(const struct command *cmd, int status);
const struct command *command_find(const char *name);
/* Checks the positional argument count: "requires exactly N argument(s)". */
int need_args(const char *cmd, int have, int min, int max);
void print_json(json_object *o);
