/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Internal to the engine: spawning the monitor and the runtime. */

#include <sys/types.h>

#include "lifecycle.h"

struct launch_result {
        pid_t pid;         /* the container's init */
        pid_t monitor_pid; /* the daemonized monitor */
};

/* Runs argv (the monitor's command line, without --sync-fd: it is added as fd 3)
 * and reads its startup report. */
int launch_monitor(const struct engine *e, char *const *argv, struct launch_result *res, struct berr **err);
/* The berth-monitor binary to run, NULL when none is found. */
char *launch_monitor_path(const struct engine *e);
/* RUNTIME [runtimeArgs] --root R cmd... */
char **launch_runtime_argv(const struct engine *e, const struct container *c, const char *const *cmd);
/* Runs argv with stdin in_fd (-1: /dev/null), stdout /dev/null, stderr captured into msg (one line). */
int launch_wait_capture(char *const *argv, int in_fd, int *status, char *msg, size_t msg_size,
                        struct berr **err);
