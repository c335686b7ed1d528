/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "ctrlog.h"

/* The monitor process proper: one per container (docs/MONITOR.md). */

enum restart_mode { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS };

struct restart_policy {
        enum restart_mode mode;
        unsigned max_retries; /* on-failure only; 0: no limit */
};

/* "no", "always", "on-failure" or "on-failure:N" as docker takes them. */
int restart_policy_parse(const char *s, struct restart_policy *out, struct berr **err);

struct monitor_config {
        const char *id;
        const char *runtime;      /* a runc-compatible binary (path or name in $PATH) */
        char **runtime_args;      /* global options put before the command */
        const char *runtime_root; /* --root, or NULL for the runtime's default */
        const char *bundle;
        const char *state_dir;
        const char *log_path; /* NULL with CTRLOG_NONE */
        enum ctrlog_driver log_driver;
        uint64_t log_size_max;
        unsigned log_max_files;
        bool terminal;
        bool stdin_open; /* attach clients may write to the container's stdin */
        bool stdin_once; /* ... and it is closed when the first of them leaves */
        bool start;
        bool cleanup; /* `RUNTIME delete` when the container is done */
        const char *exit_command;
        char **exit_command_args;
        struct restart_policy restart;
};

struct monitor;

/*
 * Takes the state directory (its lock), opens the log and the attach socket,
 * creates the container (and starts it when cfg->start) and returns its pid.
 * Signals are blocked from here on; the monitor handles them in monitor_run().
 * cfg must outlive the monitor.
 */
int monitor_setup(const struct monitor_config *cfg, struct monitor **out, pid_t *pid, struct berr **err);
/*
 * Serves until the container has exited for good (restart policy included):
 * logs output, serves attach clients, records each exit in state.json, then
 * deletes the container (cfg->cleanup), releases the state directory and
 * spawns the exit command. Returns 0, or < 0 when the monitor had to give up
 * (also recorded in state.json).
 */
int monitor_run(struct monitor *m, struct berr **err);
void monitor_free(struct monitor *m);

static inline void monitor_freep(struct monitor **m)
{
        monitor_free(*m);
}
#define _cleanup_monitor_ _cleanup_(monitor_freep)
