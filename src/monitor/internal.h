/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"

/* An error whose message says it all (a parse or protocol error): no strerror suffix. */
#define berr_plain(err, code, ...) (berr_make((err), 0, __VA_ARGS__), -(code))

/* OOM kills of the container's memory cgroup, counted from when it was opened. */
struct oom_watch {
        int dirfd; /* the memory cgroup directory, -1 when there is none */
        bool v2;
        uint64_t base;
};

/* Finds pid's memory cgroup (v1 memory controller or cgroup v2) and reads its
 * oom_kill count; false when there is none (the watch then never fires). */
bool oom_watch_open(pid_t pid, struct oom_watch *w);
bool oom_watch_fired(const struct oom_watch *w);
void oom_watch_close(struct oom_watch *w);

/* The socket a runtime's --console-socket connects to, to hand over the pty master. */
struct console_socket {
        int fd;
        char path[108];
        char tmpdir[64]; /* set when the state directory's path was too long for sun_path */
};

int console_socket_open(const char *state_dir, struct console_socket *cs, struct berr **err);
/* After the runtime's create succeeded: the pty master (O_NONBLOCK, O_CLOEXEC). */
int console_socket_receive(struct console_socket *cs, struct berr **err);
void console_socket_close(struct console_socket *cs);

/*
 * Runs argv with stdio[0..2] and waits for it. When it fails, the error
 * quotes what it wrote to `capture` (its stderr: a pipe read end or a memfd).
 */
int spawn_wait(char *const *argv, const int stdio[3], int capture, struct berr **err);
/* Child side of a fork: default signal state, stdio in place. Only for the child. */
void child_reset(const int stdio[3]);
