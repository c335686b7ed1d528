/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Unix stream sockets that carry file descriptors (SCM_RIGHTS): the seccomp
 * listener, the console socket. All fds are created O_CLOEXEC. */

/* Connects to the socket at path; returns the fd or a negative error. */
int socket_connect_unix(const char *path, struct berr **err);
/* Binds and listens at path (which must not exist); returns the fd. */
int socket_listen_unix(const char *path, int backlog, struct berr **err);

/* Sends all of buf (len >= 1) with fds attached to its first byte. */
int socket_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t n_fds, struct berr **err);
/* Receives one message of at most len bytes and up to max_fds fds, stored in
 * fds[] with their count in *n_fds; more fds than max_fds is an error (the
 * surplus is closed). Returns the number of bytes, 0 at end of stream. */
ssize_t socket_recv_fds(int sock, void *buf, size_t len, int *fds, size_t max_fds, size_t *n_fds,
                        struct berr **err);
