/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "socket.h"

/* The kernel's limit of fds in one SCM_RIGHTS message (SCM_MAX_FD). */
#define SCM_FDS_MAX 253

static int fill_addr(const char *path, struct sockaddr_un *sa, struct berr **err)
{
        size_t len = strlen(path);

        memset(sa, 0, sizeof(*sa));
        sa->sun_family = AF_UNIX;
        if (len == 0)
                return berr_make(err, EINVAL, "unix socket path is empty");
        if (len >= sizeof(sa->sun_path))
                return berr_make(err, ENAMETOOLONG,
                                 "%s: longer than the %zu bytes a unix socket path may have", path,
                                 sizeof(sa->sun_path) - 1);
        memcpy(sa->sun_path, path, len);
        return 0;
}

int socket_connect_unix(const char *path, struct berr **err)
{
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa;
        int r;

        r = fill_addr(path, &sa, err);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berr_errno(err, "socket(AF_UNIX)");
        while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                if (errno != EINTR)
                        return berr_errno(err, "connect to %s", path);
        return TAKE_FD(fd);
}

int socket_listen_unix(const char *path, int backlog, struct berr **err)
{
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa;
        int r;

        r = fill_addr(path, &sa, err);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berr_errno(err, "socket(AF_UNIX)");
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return berr_errno(err, "bind %s", path);
        if (listen(fd, backlog) < 0)
                return berr_errno(err, "listen on %s", path);
        return TAKE_FD(fd);
}

int socket_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t n_fds, struct berr **err)
{
        union {
                char buf[CMSG_SPACE(sizeof(int) * SCM_FDS_MAX)];
                struct cmsghdr align;
        } control;
        struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        const char *p = buf;
        ssize_t n;

        if (len == 0)
                return berr_make(err, EINVAL, "sending fds needs at least one byte of data");
        if (n_fds > SCM_FDS_MAX)
                return berr_make(err, EINVAL, "cannot send %zu fds in one message (at most %d)", n_fds,
                                 SCM_FDS_MAX);
        if (n_fds > 0) {
                struct cmsghdr *c;

                memset(&control, 0, sizeof(control));
                msg.msg_control = control.buf;
                msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }
        do
                n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return berr_errno(err, "sendmsg");
        /* The fds travel with the first chunk; a stream may take the rest in pieces. */
        for (size_t off = (size_t)n; off < len; off += (size_t)n) {
                n = send(sock, p + off, len - off, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR) {
                        n = 0;
                        continue;
                }
                if (n < 0)
                        return berr_errno(err, "send");
        }
        return 0;
}

ssize_t socket_recv_fds(int sock, void *buf, size_t len, int *fds, size_t max_fds, size_t *n_fds,
                        struct berr **err)
{
        union {
                char buf[CMSG_SPACE(sizeof(int) * SCM_FDS_MAX)];
                struct cmsghdr align;
        } control;
        struct iovec iov = {.iov_base = buf, .iov_len = len};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf)};
        size_t got = 0;
        bool surplus = false;
        ssize_t n;

        *n_fds = 0;
        do
                n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return berr_errno(err, "recvmsg");
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                size_t k;

                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k; i++) {
                        int fd;

                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (got < max_fds) {
                                fds[got++] = fd;
                        } else {
                                close(fd);
                                surplus = true;
                        }
                }
        }
        if (surplus || (msg.msg_flags & MSG_CTRUNC)) {
                for (size_t i = 0; i < got; i++)
                        close(fds[i]);
                return berr_make(err, EBADMSG, "received more than the %zu fds expected", max_fds);
        }
        *n_fds = got;
        return n;
}
