/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/socket.h"
#include "internal.h"

#define CAPTURE_MAX 4096

int console_socket_open(const char *state_dir, struct console_socket *cs, struct berr **err)
{
        _cleanup_close_ int dirfd = -1;
        const char *dir = state_dir;

        *cs = (struct console_socket){.fd = -1};
        /* The runtime gets a path, so it must fit in sun_path. */
        if (strlen(state_dir) + sizeof("/console.sock") > sizeof(cs->path)) {
                snprintf(cs->tmpdir, sizeof(cs->tmpdir), "/tmp/berth-console-XXXXXX");
                if (!mkdtemp(cs->tmpdir)) {
                        cs->tmpdir[0] = '\0';
                        return berr_errno(err, "create a directory for the console socket");
                }
                dir = cs->tmpdir;
        }
        snprintf(cs->path, sizeof(cs->path), "%s/console.sock", dir);
        dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return berr_errno(err, "open `%s`", dir);
        unlinkat(dirfd, "console.sock", 0);
        cs->fd = unix_listen_at(dirfd, "console.sock", SOCK_STREAM | SOCK_NONBLOCK, 1);
        if (cs->fd < 0)
                return berr_make(err, -cs->fd, "listen on console socket `%s`", cs->path);
        if (fchmodat(dirfd, "console.sock", 0600, 0) < 0)
                return berr_errno(err, "chmod console socket `%s`", cs->path);
        return 0;
}

int console_socket_receive(struct console_socket *cs, struct berr **err)
{
        _cleanup_close_ int conn = -1, fd = -1;
        char name[4096];
        size_t n_fds = 1;
        ssize_t n;

        /* The runtime has exited: its connection is queued if it made one. */
        conn = accept4(cs->fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0) {
                if (errno == EAGAIN)
                        return berr_plain(err, EPROTO, "the runtime did not send the terminal to `%s`",
                                          cs->path);
                return berr_errno(err, "accept on console socket `%s`", cs->path);
        }
        n = socket_recv_fds(conn, &fd, &n_fds, name, sizeof(name));
        if (n < 0)
                return berr_make(err, (int)-n, "receive the terminal from the runtime");
        if (n_fds != 1)
                return berr_plain(err, EPROTO, "the runtime's console message carried no fd");
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
