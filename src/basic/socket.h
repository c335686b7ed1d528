/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Sends len bytes of data (at least one byte) with up to 8 fds attached. Returns 0 or -errno. */
int socket_send_fds(int sock, const int *fds, size_t n_fds, const void *data, size_t len);
/* Receives one message; fds received are O_CLOEXEC. *n_fds: in max, out received.
 * Returns the number of data bytes (0 at EOF) or -errno. */
ssize_t socket_recv_fds(int sock, int *fds, size_t *n_fds, void *data, size_t len);
/* Connects to a unix socket, also when the path is longer than sun_path
 * (through an O_PATH fd of its directory). Returns an fd or -errno. */
int unix_connect(const char *path, int type);
/* Binds and listens on a unix socket path relative to dirfd. Returns an fd or -errno. */
int unix_listen_at(int dirfd, const char *name, int type, int backlog);
