/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A seccomp agent for the bats suites: listens on SOCKET for COUNT
 * processes (default 1: a container's init; more for exec), appends each
 * received process state to STATE_FILE (one JSON document per line), and
 * answers every notification with success (return value 0) without running
 * the syscall. Exits when the COUNT filters have no process left.
 * READY_FILE is created once connections are accepted.
 *   berth-test-seccomp-agent SOCKET STATE_FILE READY_FILE [COUNT]
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/socket.h"

#define MAX_PROCS 16

static int fail(const char *what, int code)
{
        fprintf(stderr, "berth-test-seccomp-agent: %s: %s\n", what, strerror(code));
        return 1;
}

static int listen_at(const char *path)
{
        _cleanup_free_ char *dir = strdup(path);
        _cleanup_close_ int dirfd = -1;
        char *slash = dir ? strrchr(dir, '/') : NULL;

        if (!slash)
                return -EINVAL;
        *slash = '\0';
        dirfd = open(*dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        return unix_listen_at(dirfd, slash + 1, SOCK_STREAM, MAX_PROCS);
}

/* Takes one process's state and notify fd; returns the fd. */
static int take_process(int listen_fd, int state_fd)
{
        _cleanup_close_ int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        char buf[65536];
        size_t n_fds = 1;
        int fd = -1, r;
        ssize_t n;

        if (conn < 0)
                return -errno;
        n = socket_recv_fds(conn, &fd, &n_fds, buf, sizeof(buf) - 1);
        if (n < 0)
                return (int)n;
        if (n_fds != 1)
                return -EBADMSG;
        buf[n++] = '\n';
        r = write_all(state_fd, buf, (size_t)n);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

static int answer(int notify)
{
        struct seccomp_notif req;
        struct seccomp_notif_resp resp;

        memset(&req, 0, sizeof(req));
        if (ioctl(notify, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
                return errno == EINTR || errno == ENOENT ? 0 : -errno;
        resp = (struct seccomp_notif_resp){.id = req.id};
        /* ENOENT: the caller died meanwhile. */
        if (ioctl(notify, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int main(int argc, char **argv)
{
        struct pollfd pfd[MAX_PROCS + 1];
        _cleanup_close_ int state_fd = -1;
        int count = argc > 4 ? atoi(argv[4]) : 1, taken = 0, open_fds = 0, r;

        if (argc < 4 || argc > 5 || count < 1 || count > MAX_PROCS) {
                fprintf(stderr, "usage: berth-test-seccomp-agent SOCKET STATE_FILE READY_FILE [COUNT]\n");
                return 2;
        }
        state_fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
        if (state_fd < 0)
                return fail(argv[2], errno);
        pfd[0] = (struct pollfd){.fd = listen_at(argv[1]), .events = POLLIN};
        if (pfd[0].fd < 0)
                return fail(argv[1], -pfd[0].fd);
        if (write_file_at(AT_FDCWD, argv[3], "", 0, O_CREAT | O_TRUNC, 0644, NULL) < 0)
                return fail(argv[3], errno);

        while (taken < count || open_fds > 0) {
                if (poll(pfd, (nfds_t)taken + 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return fail("poll", errno);
                }
                if (pfd[0].revents & POLLIN) {
                        int fd = take_process(pfd[0].fd, state_fd);
                        if (fd < 0)
                                return fail("receive a process", -fd);
                        pfd[++taken] = (struct pollfd){.fd = fd, .events = POLLIN};
                        open_fds++;
                        if (taken == count) {
                                close(pfd[0].fd);
                                pfd[0].fd = -1;
                        }
                }
                for (int i = 1; i <= taken; i++) {
                        if (pfd[i].fd < 0 || !pfd[i].revents)
                                continue;
                        if (!(pfd[i].revents & POLLIN)) {
                                /* POLLHUP: no process left under this filter. */
                                close(pfd[i].fd);
                                pfd[i].fd = -1;
                                open_fds--;
                                continue;
                        }
                        r = answer(pfd[i].fd);
                        if (r < 0)
                                return fail("answer a notification", -r);
                }
        }
        return 0;
}
