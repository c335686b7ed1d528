/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * `berth exec`: a process in a running container through the runtime's
 * `exec --process`, with a console socket for a terminal (podman does the
 * same without conmon). The caller proxies the terminal and waits.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "container.h"
#include "engine.h"

struct engine_exec_opts {
        const char *const *cmd;
        const char *const *env; /* NAME=VALUE, or NAME for the caller's value */
        const char *user;       /* user[:group] resolved in the container's rootfs */
        const char *workdir;
        bool tty;
        bool detach;
        unsigned rows, cols; /* terminal size, 0: unknown */
};

struct engine_exec {
        pid_t runtime_pid;
        int pty_master; /* with tty, once the runtime sent it; else -1 */
        char session_id[65];
        char tmpdir[64]; /* process.json, the console socket, the runtime's log */
        int console_fd;
        bool detach;
};

/* Starts the runtime's exec; stdio is the caller's (without tty). */
int engine_exec_start(struct engine *e, const struct container *c, const struct engine_exec_opts *o,
                      struct engine_exec *x, struct berr **err);
/* Waits for the runtime to send the pty master (tty only). */
int engine_exec_take_terminal(struct engine_exec *x, struct berr **err);
/* Waits for the runtime; *exit_code: the process's status, 126/127 when it could not be run
 * (err then says why), 125 for other runtime failures. */
int engine_exec_wait(struct engine *e, struct engine_exec *x, int *exit_code, struct berr **err);
void engine_exec_done(struct engine_exec *x);
