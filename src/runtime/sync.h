/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

#include "basic/error.h"

/*
 * Messages between the runtime and the container's init over a
 * SOCK_SEQPACKET socketpair. The init's end is O_CLOEXEC, so a successful
 * execve shows up as EOF on the runtime's end.
 */
enum sync_type {
        SYNC_GO = 1,       /* runtime -> init: ids mapped, cgroup joined; value = init's host pid */
        SYNC_USERNS,       /* init -> runtime: user namespace created, write the id maps */
        SYNC_USERNS_DONE,  /* runtime -> init */
        SYNC_PID,          /* init -> runtime: value = pid of the final init (two-stage start) */
        SYNC_HOOKS,        /* init -> runtime: run prestart and createRuntime hooks now */
        SYNC_HOOKS_DONE,   /* runtime -> init */
        SYNC_SECCOMP_FD,   /* init -> runtime: the seccomp notify fd is attached */
        SYNC_SECCOMP_DONE, /* runtime -> init */
        SYNC_PTY,          /* init -> runtime: the pty master is attached (foreground terminal) */
        SYNC_READY,        /* init -> runtime: set up, waiting for start */
        SYNC_START,        /* runtime -> init: run startContainer hooks and exec */
        SYNC_ERROR,        /* either way: text is the error message */
};

struct sync_msg {
        uint32_t type;
        int32_t value;
        char text[4000];
};

int sync_send(int fd, enum sync_type type, int32_t value, const char *text);
int sync_send_fd(int fd, enum sync_type type, int passfd);
/* Receives a message; returns 0 at EOF, 1 with a message, or -errno. *passfd gets an attached fd or -1. */
int sync_recv(int fd, struct sync_msg *msg, int *passfd);
/* Waits for a message of the given type; an SYNC_ERROR or EOF becomes an error. */
int sync_expect(int fd, enum sync_type type, struct sync_msg *msg, struct berr **err);
/* Sends an error to the peer (best effort). */
void sync_send_error(int fd, const struct berr *err);
