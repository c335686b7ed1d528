/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A seccomp agent for the bats suites: listens on SOCKET, takes one
 * container's notify fd and process state (the message is written to
 * STATE_FILE), then answers every notification with success (return value
 * 0) without running the syscall, until the container's processes are gone.
 * READY_FILE is created once connections are accepted.
 *   seccomp-agent SOCKET STATE_FILE READY_FILE
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/socket.h"

static int fail(const char *what, struct berr *err)
{
        fprintf(stderr, "seccomp-agent: %s: %s\n", what, err ? err->msg : strerror(errno));
        return 1;
}

int main(int argc, char **argv)
{
        _cleanup_close_ int listen_fd = -1, conn = -1, notify = -1;
        struct berr *err = NULL;
        char buf[65536];
        size_t n_fds = 0;
        ssize_t n;

        if (argc != 4) {
                fprintf(stderr, "usage: seccomp-agent SOCKET STATE_FILE READY_FILE\n");
                return 2;
        }
        listen_fd = socket_listen_unix(argv[1], 1, &err);
        if (listen_fd < 0)
                return fail("listen", err);
        if (write_file_at(AT_FDCWD, argv[3], "", 0, O_CREAT | O_TRUNC, 0644, &err) < 0)
                return fail("ready file", err);
        conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
                return fail("accept", NULL);
        n = socket_recv_fds(conn, buf, sizeof(buf), &notify, 1, &n_fds, &err);
        if (n < 0)
                return fail("receive", err);
        if (n_fds != 1)
                return fail("receive: no fd", NULL);
        if (write_file_at(AT_FDCWD, argv[2], buf, (size_t)n, O_CREAT | O_TRUNC, 0644, &err) < 0)
                return fail("state file", err);

        for (;;) {
                struct pollfd pfd = {.fd = notify, .events = POLLIN};
                struct seccomp_notif req;
                struct seccomp_notif_resp resp;

                if (poll(&pfd, 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return fail("poll", NULL);
                }
                if (!(pfd.revents & POLLIN))
                        return 0; /* POLLHUP: no process left under the filter */
                memset(&req, 0, sizeof(req));
                if (ioctl(notify, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
                        if (errno == EINTR || errno == ENOENT)
                                continue;
                        return fail("SECCOMP_IOCTL_NOTIF_RECV", NULL);
                }
                resp = (struct seccomp_notif_resp){.id = req.id};
                /* ENOENT: the caller died meanwhile. */
                if (ioctl(notify, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
                        return fail("SECCOMP_IOCTL_NOTIF_SEND", NULL);
        }
}
