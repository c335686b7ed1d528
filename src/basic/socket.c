/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "macro.h"
#include "socket.h"

#define MAX_FDS 8

int socket_send_fds(int sock, const int *fds, size_t n_fds, const void *data, size_t len)
{
        union {
                char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
                struct cmsghdr align;
        } u;
        struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n;

        if (n_fds > MAX_FDS || len == 0)
                return -EINVAL;
        if (n_fds > 0) {
                struct cmsghdr *c;
                memset(&u, 0, sizeof(u));
                msg.msg_control = u.buf;
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
                return -errno;
        return (size_t)n == len ? 0 : -EIO;
}

ssize_t socket_recv_fds(int sock, int *fds, size_t *n_fds, void *data, size_t len)
{
        union {
                char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
                struct cmsghdr align;
        } u;
        struct iovec iov = {.iov_base = data, .iov_len = len};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
        size_t max = n_fds ? *n_fds : 0, got = 0;
        ssize_t n;

        do
                n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                size_t cnt;
                int tmp[MAX_FDS];
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                memcpy(tmp, CMSG_DATA(c), cnt * sizeof(int));
                for (size_t i = 0; i < cnt; i++) {
                        if (got < max)
                                fds[got++] = tmp[i];
                        else
                                close(tmp[i]);
                }
        }
        if (n_fds)
                *n_fds = got;
        return n;
}

static int sockaddr_for(const char *path, struct sockaddr_un *sa, int *dirfd_out, const char **name_out)
{
        memset(sa, 0, sizeof(*sa));
        sa->sun_family = AF_UNIX;
        *dirfd_out = -1;
        if (strlen(path) < sizeof(sa->sun_path)) {
                strcpy(sa->sun_path, path);
                return 0;
        }
        /* Too long for sun_path: go through /proc/self/fd/N/<name> of the directory. */
        {
                const char *slash = strrchr(path, '/');
                _cleanup_free_ char *dir = NULL;
                int dfd;
                if (!slash)
                        return -ENAMETOOLONG;
                dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
                if (!dir)
                        return -ENOMEM;
                dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        return -errno;
                if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", dfd, slash + 1) >=
                    sizeof(sa->sun_path)) {
                        close(dfd);
                        return -ENAMETOOLONG;
                }
                *dirfd_out = dfd;
                *name_out = slash + 1;
        }
        return 0;
}

int unix_connect(const char *path, int type)
{
        struct sockaddr_un sa;
        const char *name = NULL;
        _cleanup_close_ int dfd = -1;
        int fd, r;

        r = sockaddr_for(path, &sa, &dfd, &name);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        do
                r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
        while (r < 0 && errno == EINTR);
        if (r < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

int unix_listen_at(int dirfd, const char *name, int type, int backlog)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd, r;

        if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd, name) >=
            sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, backlog) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        return fd;
}
