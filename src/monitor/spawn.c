/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "internal.h"

#define CAPTURE_MAX 4096

int console_socket_open(const char *state_dir, struct console_socket *cs, struct berr **err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        const char *dir = state_dir;

        *cs = (struct console_socket){.fd = -1};
        /* The runtime gets a path, so it must fit in sun_path. */
        if (strlen(state_dir) + sizeof("/console.sock") > sizeof(sa.sun_path)) {
                snprintf(cs->tmpdir, sizeof(cs->tmpdir), "/tmp/berth-console-XXXXXX");
                if (!mkdtemp(cs->tmpdir)) {
                        cs->tmpdir[0] = '\0';
                        return berr_errno(err, "create a directory for the console socket");
                }
                dir = cs->tmpdir;
        }
        snprintf(cs->path, sizeof(cs->path), "%s/console.sock", dir);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", cs->path);
        cs->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (cs->fd < 0)
                return berr_errno(err, "socket");
        unlink(cs->path);
        if (bind(cs->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return berr_errno(err, "bind console socket `%s`", cs->path);
        if (chmod(cs->path, 0600) < 0)
                return berr_errno(err, "chmod console socket `%s`", cs->path);
        if (listen(cs->fd, 1) < 0)
                return berr_errno(err, "listen on console socket `%s`", cs->path);
        return 0;
}

int console_socket_receive(struct console_socket *cs, struct berr **err)
{
        _cleanup_close_ int conn = -1, fd = -1;
        union {
                struct cmsghdr hdr;
                char buf[CMSG_SPACE(sizeof(int))];
        } ctl;
        char name[4096];
        struct iovec iov = {name, sizeof(name)};
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl)};
        struct cmsghdr *c;
        ssize_t n;

        /* The runtime has exited: its connection is queued if it made one. */
        conn = accept4(cs->fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0) {
                if (errno == EAGAIN)
                        return berr_make(err, EPROTO, "the runtime did not send the terminal to `%s`",
                                         cs->path);
                return berr_errno(err, "accept on console socket `%s`", cs->path);
        }
        do
                n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return berr_errno(err, "receive the terminal from the runtime");
        for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                if (c->cmsg_len != CMSG_LEN(sizeof(int)) || fd >= 0)
                        return berr_make(err, EPROTO, "the runtime sent more than one fd for the terminal");
                memcpy(&fd, CMSG_DATA(c), sizeof(int));
        }
        if (msg.msg_flags & MSG_CTRUNC)
                return berr_make(err, EPROTO, "the runtime sent more than one fd for the terminal");
        if (fd < 0)
                return berr_make(err, EPROTO, "the runtime's console message carried no fd");
        if (fcntl(fd, F_SETFL, O_NONBLOCK | O_RDWR) < 0)
                return berr_errno(err, "set the terminal non-blocking");
        return TAKE_FD(fd);
}

void console_socket_close(struct console_socket *cs)
{
        if (cs->fd >= 0) {
                cs->fd = safe_close(cs->fd);
                unlink(cs->path);
        }
        if (cs->tmpdir[0]) {
                rmdir(cs->tmpdir);
                cs->tmpdir[0] = '\0';
        }
}

void child_reset(const int stdio[3])
{
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* An ignored SIGPIPE would survive exec into the container. */
        signal(SIGPIPE, SIG_DFL);
        for (int i = 0; i < 3; i++) {
                if (stdio[i] == i)
                        fcntl(i, F_SETFD, 0);
                else
                        dup2(stdio[i], i);
        }
}

/* Text the child left on its stderr, squeezed to one line for a message. */
static void read_capture(int fd, char *buf, size_t size)
{
        ssize_t n;
        size_t len;

        lseek(fd, 0, SEEK_SET); /* a memfd; a pipe just says ESPIPE */
        n = read(fd, buf, size - 1);
        len = n > 0 ? (size_t)n : 0;
        buf[len] = '\0';
        for (size_t i = 0; i < len; i++)
                if (buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t')
                        buf[i] = ' ';
        while (len > 0 && buf[len - 1] == ' ')
                buf[--len] = '\0';
}

int spawn_wait(char *const *argv, const int stdio[3], int capture, struct berr **err)
{
        _cleanup_close_ int rd = -1, wr = -1;
        int fds[2], status, child_errno = 0;
        char text[CAPTURE_MAX];
        pid_t pid;

        /* Tells exec failures (errno through a close-on-exec pipe) from a failing command. */
        if (pipe2(fds, O_CLOEXEC) < 0)
                return berr_errno(err, "pipe");
        rd = fds[0];
        wr = fds[1];
        pid = fork();
        if (pid < 0)
                return berr_errno(err, "fork for `%s`", argv[0]);
        if (pid == 0) {
                child_reset(stdio);
                execvp(argv[0], argv);
                child_errno = errno;
                (void)write(wr, &child_errno, sizeof(child_errno));
                _exit(127);
        }
        wr = safe_close(wr);
        if (read_full(rd, &child_errno, sizeof(child_errno)) != sizeof(child_errno))
                child_errno = 0;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return berr_errno(err, "wait for `%s`", argv[0]);
        if (child_errno)
                return berr_make(err, child_errno, "execute `%s`", argv[0]);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        read_capture(capture, text, sizeof(text));
        if (WIFSIGNALED(status))
                return berr_make(err, 0, "`%s` was killed by signal %d%s%s", argv[0], WTERMSIG(status),
                                 text[0] ? ": " : "", text);
        return berr_make(err, 0, "`%s` exited with status %d%s%s", argv[0], WEXITSTATUS(status),
                         text[0] ? ": " : "", text);
}
