/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "attach.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "internal.h"
#include "server.h"
#include "status.h"

/* One read of container output; it is logged and then handed to every attach
 * client before the next read, so a slow client slows the container down
 * (as with docker attach) instead of growing a buffer. */
#define OUT_CHUNK   8192
#define MAX_CLIENTS 16
#define CLIENT_IN   4096
/* How long attach clients get, once the container has exited, to take the
 * rest of its output and the exit frame before they are dropped. */
#define EXIT_GRACE_MS 5000
/* Docker's restart backoff: 100 ms, doubled per restart up to a minute, back
 * to the start after a run of 10 s. */
#define BACKOFF_FIRST_NS (100 * 1000000LL)
#define BACKOFF_MAX_NS   (60 * 1000000000LL)
#define BACKOFF_RESET_NS (10 * 1000000000LL)

struct client {
        int fd;    /* -1 once dropped; swept at the end of the loop iteration */
        bool owes; /* has not taken all of the current broadcast frame */
        size_t sent;
        struct attach_decoder dec;
        size_t in_start, in_end;
        /* Input bytes in in[] the container's stdin did not take yet. */
        size_t pend_off, pend_len;
        uint8_t in[CLIENT_IN];
};

struct monitor {
        const struct monitor_config *cfg;
        int dirfd, lock_fd, sig_fd, listen_fd, null_fd;

        /* The current container: with a terminal, out_fd is the pty master
         * and in_fd a duplicate of it. */
        bool created;
        pid_t pid;
        int out_fd, err_fd, in_fd;
        struct oom_watch oom;
        bool exited;
        int wait_status;
        int64_t exited_ns, started_mono, exited_mono;

        bool stop;           /* SIGTERM/SIGINT/SIGUSR1: no more restarts */
        bool created_before; /* a restart: start is always the monitor's job */
        int64_t backoff_ns;
        struct monitor_state st;
        struct ctrlog_writer *log;
        bool log_warned;

        size_t n_clients;
        struct client *clients[MAX_CLIENTS];
        bool bc_busy;
        uint8_t bc_hdr[ATTACH_HEADER_SIZE];
        size_t bc_len;
        uint8_t bc_buf[OUT_CHUNK];
};

int restart_policy_parse(const char *s, struct restart_policy *out, struct berr **err)
{
        *out = (struct restart_policy){0};
        if (streq(s, "no"))
                return 0;
        if (streq(s, "always")) {
                out->mode = RESTART_ALWAYS;
                return 0;
        }
        if (strneq(s, "on-failure", 10) && (s[10] == '\0' || s[10] == ':')) {
                out->mode = RESTART_ON_FAILURE;
                if (s[10] == ':') {
                        char *end;
                        unsigned long v;
                        errno = 0;
                        v = strtoul(s + 11, &end, 10);
                        if (!s[11] || *end || s[11] == '-' || errno || v > UINT32_MAX)
                                return berr_plain(err, EINVAL, "restart policy `%s`: bad retry count", s);
                        out->max_retries = (unsigned)v;
                }
                return 0;
        }
        return berr_plain(err, EINVAL, "unknown restart policy `%s` (no, on-failure[:N], always)", s);
}

static void save_state(struct monitor *m)
{
        _cleanup_berr_ struct berr *e = NULL;

        if (monitor_state_write(m->dirfd, &m->st, &e) < 0)
                log_error("%s", e->msg);
}

/* RUNTIME [runtime args] [--root R] cmd... */
static char **runtime_argv(struct monitor *m, const char *const *cmd)
{
        _cleanup_strv_free_ char **argv = NULL;

        if (strv_extend(&argv, m->cfg->runtime) < 0)
                return NULL;
        STRV_FOREACH (a, m->cfg->runtime_args)
                if (strv_extend(&argv, *a) < 0)
                        return NULL;
        if (m->cfg->runtime_root &&
            (strv_extend(&argv, "--root") < 0 || strv_extend(&argv, m->cfg->runtime_root) < 0))
                return NULL;
        for (; *cmd; cmd++)
                if (strv_extend(&argv, *cmd) < 0)
                        return NULL;
        return TAKE_PTR(argv);
}

/* A runtime command with no stdio of interest (start, delete). */
static int runtime_do(struct monitor *m, const char *const *cmd, struct berr **err)
{
        _cleanup_strv_free_ char **argv = runtime_argv(m, cmd);
        _cleanup_close_ int capture = memfd_create("runtime-stderr", MFD_CLOEXEC);
        int stdio[3] = {m->null_fd, m->null_fd, capture};
        int r;

        if (!argv)
                return berr_make(err, ENOMEM, "runtime %s", cmd[0]);
        if (capture < 0)
                return berr_errno(err, "memfd");
        r = spawn_wait(argv, stdio, capture, err);
        if (r < 0)
                return berr_wrap(err, "%s container `%s`", cmd[0], m->cfg->id);
        return 0;
}

static int runtime_delete(struct monitor *m, struct berr **err)
{
        int r = runtime_do(m, (const char *const[]){"delete", "--force", m->cfg->id, NULL}, err);

        if (r >= 0)
                m->created = false;
        return r;
}

static int set_nonblock(int fd)
{
        int fl = fcntl(fd, F_GETFL);

        return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

static void close_instance(struct monitor *m)
{
        m->out_fd = safe_close(m->out_fd);
        m->err_fd = safe_close(m->err_fd);
        m->in_fd = safe_close(m->in_fd);
        oom_watch_close(&m->oom);
        m->pid = 0;
        m->exited = false;
}

static int read_pid(struct monitor *m, struct berr **err)
{
        char buf[32], *end;
        long v;
        int n = read_line_at(m->dirfd, MONITOR_CTR_PID, buf, sizeof(buf));

        if (n < 0)
                return berr_make(err, -n, "read the container's pid file `%s/%s`", m->cfg->state_dir,
                                 MONITOR_CTR_PID);
        errno = 0;
        v = strtol(buf, &end, 10);
        if (errno || *end || v <= 0 || v > INT32_MAX)
                return berr_plain(err, EINVAL, "pid file `%s/%s` holds `%s`", m->cfg->state_dir,
                                  MONITOR_CTR_PID, buf);
        m->pid = (pid_t)v;
        return 0;
}

/* Sets up the stdio and runs `RUNTIME create`; on return the container exists
 * or nothing of it does. */
static int create_instance(struct monitor *m, struct berr **err)
{
        const struct monitor_config *c = m->cfg;
        _cleanup_close_ int out_w = -1, err_w = -1, in_r = -1, capture = -1;
        _cleanup_free_ char *pidfile = path_join(c->state_dir, MONITOR_CTR_PID);
        _cleanup_strv_free_ char **argv = NULL;
        struct console_socket cs = {.fd = -1};
        int fds[2], stdio[3], cap_fd, r;

        if (!pidfile)
                return berr_make(err, ENOMEM, "create");
        unlinkat(m->dirfd, MONITOR_CTR_PID, 0);
        if (c->terminal) {
                r = console_socket_open(c->state_dir, &cs, err);
                if (r < 0)
                        goto out;
                capture = memfd_create("runtime-stderr", MFD_CLOEXEC);
                if (capture < 0) {
                        r = berr_errno(err, "memfd");
                        goto out;
                }
                stdio[0] = stdio[1] = m->null_fd;
                stdio[2] = cap_fd = capture;
        } else {
                if (pipe2(fds, O_CLOEXEC) < 0) {
                        r = berr_errno(err, "pipe");
                        goto out;
                }
                m->out_fd = fds[0];
                out_w = fds[1];
                if (pipe2(fds, O_CLOEXEC) < 0) {
                        r = berr_errno(err, "pipe");
                        goto out;
                }
                m->err_fd = fds[0];
                err_w = fds[1];
                if (c->stdin_open) {
                        if (pipe2(fds, O_CLOEXEC) < 0) {
                                r = berr_errno(err, "pipe");
                                goto out;
                        }
                        in_r = fds[0];
                        m->in_fd = fds[1];
                        set_nonblock(m->in_fd);
                }
                set_nonblock(m->out_fd);
                set_nonblock(m->err_fd);
                /* The runtime hands its stdio to the container; what it says
                 * itself when it fails is all the pipe then holds. */
                stdio[0] = in_r >= 0 ? in_r : m->null_fd;
                stdio[1] = out_w;
                stdio[2] = err_w;
                cap_fd = m->err_fd;
        }
        argv = runtime_argv(m, c->terminal
                                   ? (const char *const[]){"create", "--bundle", c->bundle, "--pid-file",
                                                           pidfile, "--console-socket", cs.path, c->id, NULL}
                                   : (const char *const[]){"create", "--bundle", c->bundle, "--pid-file",
                                                           pidfile, c->id, NULL});
        if (!argv) {
                r = berr_make(err, ENOMEM, "create");
                goto out;
        }
        r = spawn_wait(argv, stdio, cap_fd, err);
        if (r < 0) {
                berr_wrap(err, "create container `%s`", c->id);
                goto out;
        }
        m->created = true;
        if (c->terminal) {
                r = console_socket_receive(&cs, err);
                if (r < 0)
                        goto out;
                m->out_fd = r;
                if (c->stdin_open && (m->in_fd = fcntl(m->out_fd, F_DUPFD_CLOEXEC, 3)) < 0) {
                        r = berr_errno(err, "dup");
                        goto out;
                }
        }
        r = read_pid(m, err);
        if (r < 0)
                goto out;
        if (!oom_watch_open(m->pid, &m->oom))
                log_debug("no memory cgroup found for pid %d: OOM kills go unnoticed", (int)m->pid);
        r = 0;
out:
        console_socket_close(&cs);
        if (r < 0) {
                _cleanup_berr_ struct berr *e = NULL;
                close_instance(m);
                if (m->created && runtime_delete(m, &e) < 0)
                        log_error("%s", e->msg);
        }
        return r;
}

static int start_instance(struct monitor *m, struct berr **err)
{
        int r;

        /* Without --start the engine starts the first run (after attaching); restarts are ours. */
        if (m->cfg->start || m->created_before) {
                r = runtime_do(m, (const char *const[]){"start", m->cfg->id, NULL}, err);
                if (r < 0) {
                        _cleanup_berr_ struct berr *e = NULL;
                        if (runtime_delete(m, &e) < 0)
                                log_error("%s", e->msg);
                        close_instance(m);
                        return r;
                }
        }
        m->started_mono = time_mono_ns();
        m->st.status = MONITOR_RUNNING;
        m->st.pid = m->pid;
        m->st.started_ns = time_now_ns();
        return 0;
}

static void client_drop(struct client *c)
{
        c->fd = safe_close(c->fd);
}

/* Best effort: the client learns why before it is dropped. */
static void client_fail(struct client *c, const char *msg)
{
        uint8_t frame[ATTACH_HEADER_SIZE + 256];
        size_t len = MIN(strlen(msg), (size_t)256);

        (void)!send(c->fd, frame, attach_frame(frame, ATTACH_ERROR, msg, (uint32_t)len),
                    MSG_NOSIGNAL | MSG_DONTWAIT);
        client_drop(c);
}

static void client_push(struct monitor *m, struct client *c)
{
        size_t total = ATTACH_HEADER_SIZE + m->bc_len;

        while (c->owes && c->fd >= 0) {
                struct iovec iov[2];
                struct msghdr msg = {.msg_iov = iov};
                size_t poff = c->sent > ATTACH_HEADER_SIZE ? c->sent - ATTACH_HEADER_SIZE : 0;
                ssize_t n;

                if (c->sent < ATTACH_HEADER_SIZE)
                        iov[msg.msg_iovlen++] =
                            (struct iovec){m->bc_hdr + c->sent, ATTACH_HEADER_SIZE - c->sent};
                if (m->bc_len > poff)
                        iov[msg.msg_iovlen++] = (struct iovec){m->bc_buf + poff, m->bc_len - poff};
                n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                client_drop(c);
                        return;
                }
                c->sent += (size_t)n;
                if (c->sent == total)
                        c->owes = false;
        }
}

static void update_busy(struct monitor *m)
{
        m->bc_busy = false;
        for (size_t i = 0; i < m->n_clients; i++)
                if (m->clients[i]->fd >= 0 && m->clients[i]->owes)
                        m->bc_busy = true;
}

/* bc_buf[0..len) goes to every client as one frame. */
static void broadcast(struct monitor *m, enum attach_type type, size_t len)
{
        if (m->n_clients == 0)
                return;
        attach_header(m->bc_hdr, type, (uint32_t)len);
        m->bc_len = len;
        for (size_t i = 0; i < m->n_clients; i++) {
                struct client *c = m->clients[i];
                c->owes = c->fd >= 0;
                c->sent = 0;
                client_push(m, c);
        }
        update_busy(m);
}

static void stdin_close(struct monitor *m)
{
        m->in_fd = safe_close(m->in_fd);
        for (size_t i = 0; i < m->n_clients; i++)
                m->clients[i]->pend_len = 0;
}

static void stdin_push(struct monitor *m, struct client *c)
{
        while (c->pend_len > 0) {
                ssize_t n;

                if (m->in_fd < 0) {
                        c->pend_len = 0;
                        return;
                }
                n = write(m->in_fd, c->in + c->pend_off, c->pend_len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                stdin_close(m); /* the container closed its stdin */
                        return;
                }
                c->pend_off += (size_t)n;
                c->pend_len -= (size_t)n;
        }
}

static void resize(struct monitor *m, const uint8_t *p)
{
        struct winsize ws = {.ws_row = (unsigned short)(p[0] << 8 | p[1]),
                             .ws_col = (unsigned short)(p[2] << 8 | p[3])};

        if (m->cfg->terminal && m->out_fd >= 0 && ioctl(m->out_fd, TIOCSWINSZ, &ws) < 0)
                log_debug("resize terminal: %m");
}

/* Works through the client's buffered frames until they are done or the
 * container's stdin is full. */
static void client_process(struct monitor *m, struct client *c)
{
        while (c->fd >= 0 && c->pend_len == 0 && c->in_start < c->in_end) {
                _cleanup_berr_ struct berr *e = NULL;
                struct attach_piece p;
                bool have;
                ssize_t n =
                    attach_decode(&c->dec, c->in + c->in_start, c->in_end - c->in_start, &p, &have, &e);

                if (n < 0) {
                        client_fail(c, e->msg);
                        return;
                }
                c->in_start += (size_t)n;
                if (!have)
                        continue;
                switch (p.type) {
                case ATTACH_STDIN:
                        if (m->in_fd >= 0 && p.len > 0) {
                                c->pend_off = (size_t)(p.data - c->in);
                                c->pend_len = p.len;
                                stdin_push(m, c);
                        }
                        break;
                case ATTACH_RESIZE:
                        resize(m, p.data);
                        break;
                case ATTACH_CLOSE_STDIN:
                        /* A terminal has no end of input; ^D is the container's business. */
                        if (!m->cfg->terminal)
                                stdin_close(m);
                        break;
                case ATTACH_DETACH:
                        client_drop(c);
                        return;
                default:
                        client_fail(c, "unexpected frame type from an attach client");
                        return;
                }
        }
        if (c->in_start == c->in_end)
                c->in_start = c->in_end = 0;
}

static void client_read(struct monitor *m, struct client *c)
{
        ssize_t n;

        if (c->pend_len || c->in_start < c->in_end)
                return;
        n = read(c->fd, c->in, sizeof(c->in));
        if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        client_drop(c);
                return;
        }
        if (n == 0) {
                client_drop(c);
                return;
        }
        c->in_start = 0;
        c->in_end = (size_t)n;
        client_process(m, c);
}

static void accept_client(struct monitor *m)
{
        uint8_t hello[ATTACH_HEADER_SIZE + 2], info[2];
        struct client *c;
        int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd < 0)
                return;
        if (m->n_clients == MAX_CLIENTS) {
                struct client tmp = {.fd = fd};
                client_fail(&tmp, "too many attach clients");
                return;
        }
        c = calloc(1, sizeof(*c));
        if (!c) {
                close(fd);
                return;
        }
        c->fd = fd;
        info[0] = ATTACH_VERSION;
        info[1] = (m->cfg->terminal ? ATTACH_HELLO_TTY : 0) | (m->in_fd >= 0 ? ATTACH_HELLO_STDIN : 0);
        /* A new socket's buffer is empty: the hello goes out whole. The client
         * joins at the next broadcast frame. */
        if (send(fd, hello, attach_frame(hello, ATTACH_HELLO, info, 2), MSG_NOSIGNAL) != sizeof(hello)) {
                close(fd);
                free(c);
                return;
        }
        m->clients[m->n_clients++] = c;
}

static void sweep_clients(struct monitor *m)
{
        size_t j = 0;
        bool left = false;

        for (size_t i = 0; i < m->n_clients; i++) {
                if (m->clients[i]->fd < 0) {
                        free(m->clients[i]);
                        left = true;
                } else {
                        m->clients[j++] = m->clients[i];
                }
        }
        m->n_clients = j;
        if (left && m->cfg->stdin_once && !m->cfg->terminal && m->in_fd >= 0)
                stdin_close(m);
        update_busy(m);
}

static void drop_owing_clients(struct monitor *m)
{
        for (size_t i = 0; i < m->n_clients; i++)
                if (m->clients[i]->owes)
                        client_drop(m->clients[i]);
        sweep_clients(m);
}

static void drop_all_clients(struct monitor *m)
{
        for (size_t i = 0; i < m->n_clients; i++)
                client_drop(m->clients[i]);
        sweep_clients(m);
}

static void reap(struct monitor *m)
{
        int status;
        pid_t p;

        /* Stray children (the runtime's helpers, orphans of the container) are ours to reap too. */
        while ((p = waitpid(-1, &status, WNOHANG)) > 0)
                if (p == m->pid && !m->exited) {
                        m->exited = true;
                        m->wait_status = status;
                        m->exited_ns = time_now_ns();
                        m->exited_mono = time_mono_ns();
                }
}

static void handle_signals(struct monitor *m)
{
        struct signalfd_siginfo si;

        while (read(m->sig_fd, &si, sizeof(si)) == sizeof(si)) {
                switch (si.ssi_signo) {
                case SIGCHLD:
                        reap(m);
                        break;
                case SIGTERM:
                case SIGINT:
                        /* A stop: passed on to the container, whose exit is then recorded as usual. */
                        m->stop = true;
                        if (m->pid > 0 && !m->exited && kill(m->pid, (int)si.ssi_signo) < 0)
                                log_warn("forward signal %u to pid %d: %m", si.ssi_signo, (int)m->pid);
                        break;
                case SIGUSR1:
                        /* The engine stops the container itself (its own stop signal, or a
                         * kill): only the restart policy must know. */
                        m->stop = true;
                        break;
                default:
                        break; /* SIGHUP: a daemon has no terminal to lose */
                }
        }
}

static void read_output(struct monitor *m, int *fdp, enum ctrlog_stream s)
{
        ssize_t n = read(*fdp, m->bc_buf, sizeof(m->bc_buf));

        if (n > 0) {
                if (m->log) {
                        _cleanup_berr_ struct berr *e = NULL;
                        if (ctrlog_write(m->log, s, m->bc_buf, (size_t)n, time_now_ns(), &e) < 0 &&
                            !m->log_warned) {
                                log_warn("%s", e->msg);
                                m->log_warned = true;
                        }
                }
                broadcast(m, s == CTRLOG_STDERR ? ATTACH_STDERR : ATTACH_STDOUT, (size_t)n);
                return;
        }
        if (n < 0 && (errno == EINTR || (errno == EAGAIN && !m->exited)))
                return;
        /* EOF; EIO from a pty master once nothing holds the other side; and
         * after the exit (init's namespace is empty), no more data is drained. */
        *fdp = safe_close(*fdp);
}

static bool stdin_blocked(const struct monitor *m)
{
        for (size_t i = 0; i < m->n_clients; i++)
                if (m->clients[i]->fd >= 0 && m->clients[i]->pend_len)
                        return true;
        return false;
}

/* Runs until the container has exited and its output is logged and handed out. */
static int serve(struct monitor *m, struct berr **err)
{
        struct pollfd pfd[5 + MAX_CLIENTS];
        struct client *polled[MAX_CLIENTS];

        for (;;) {
                size_t n = 0, n_polled = m->n_clients;
                int timeout = -1;

                if (m->exited && m->out_fd < 0 && m->err_fd < 0 && !m->bc_busy)
                        return 0;
                pfd[n++] = (struct pollfd){m->sig_fd, POLLIN, 0};
                pfd[n++] = (struct pollfd){m->exited ? -1 : m->listen_fd, POLLIN, 0};
                pfd[n++] = (struct pollfd){m->bc_busy ? -1 : m->out_fd, POLLIN, 0};
                pfd[n++] = (struct pollfd){m->bc_busy ? -1 : m->err_fd, POLLIN, 0};
                pfd[n++] = (struct pollfd){stdin_blocked(m) ? m->in_fd : -1, POLLOUT, 0};
                for (size_t i = 0; i < n_polled; i++) {
                        struct client *c = polled[i] = m->clients[i];
                        short ev = (short)((c->pend_len == 0 && c->in_start == c->in_end ? POLLIN : 0) |
                                           (c->owes ? POLLOUT : 0));
                        /* A client whose input waits for the container is not polled
                         * at all: its hangup must not spin the loop. */
                        pfd[n++] = (struct pollfd){ev ? c->fd : -1, ev, 0};
                }
                /* After the exit, the output is read until it runs dry rather than
                 * waited for, and clients too slow to take it are not waited for
                 * long: the exit must get recorded. */
                if (m->exited && !m->bc_busy) {
                        timeout = 0;
                } else if (m->exited) {
                        int64_t left = m->exited_mono + EXIT_GRACE_MS * 1000000LL - time_mono_ns();
                        if (left <= 0) {
                                drop_owing_clients(m);
                                continue;
                        }
                        timeout = (int)(left / 1000000) + 1;
                }
                if (poll(pfd, n, timeout) < 0 && errno != EINTR)
                        return berr_errno(err, "poll");
                if (pfd[0].revents)
                        handle_signals(m);
                if (pfd[1].revents)
                        accept_client(m);
                if (!m->bc_busy && m->out_fd >= 0 && (pfd[2].revents || m->exited))
                        read_output(m, &m->out_fd, CTRLOG_STDOUT);
                if (!m->bc_busy && m->err_fd >= 0 && (pfd[3].revents || m->exited))
                        read_output(m, &m->err_fd, CTRLOG_STDERR);
                if (pfd[4].revents)
                        for (size_t i = 0; i < m->n_clients; i++)
                                stdin_push(m, m->clients[i]);
                for (size_t i = 0; i < n_polled; i++) {
                        short re = pfd[5 + i].revents;
                        if (polled[i]->fd < 0)
                                continue;
                        if (re & POLLOUT)
                                client_push(m, polled[i]);
                        if (re & (POLLIN | POLLHUP | POLLERR))
                                client_read(m, polled[i]);
                }
                for (size_t i = 0; i < m->n_clients; i++)
                        client_process(m, m->clients[i]);
                sweep_clients(m);
        }
}

/* Gives attach clients the exit frame, for a bounded time. */
static void send_exit(struct monitor *m, int code)
{
        int64_t deadline = time_mono_ns() + EXIT_GRACE_MS * 1000000LL;

        m->bc_buf[0] = (uint8_t)((uint32_t)code >> 24);
        m->bc_buf[1] = (uint8_t)((uint32_t)code >> 16);
        m->bc_buf[2] = (uint8_t)((uint32_t)code >> 8);
        m->bc_buf[3] = (uint8_t)code;
        broadcast(m, ATTACH_EXIT, 4);
        while (m->bc_busy) {
                struct pollfd pfd[1 + MAX_CLIENTS];
                size_t n = 0;
                int64_t left = deadline - time_mono_ns();

                if (left <= 0)
                        break;
                pfd[n++] = (struct pollfd){m->sig_fd, POLLIN, 0};
                for (size_t i = 0; i < m->n_clients; i++)
                        pfd[n++] = (struct pollfd){m->clients[i]->owes ? m->clients[i]->fd : -1, POLLOUT, 0};
                if (poll(pfd, n, (int)(left / 1000000) + 1) < 0 && errno != EINTR)
                        break;
                if (pfd[0].revents)
                        handle_signals(m);
                for (size_t i = 1; i < n; i++)
                        if (pfd[i].revents)
                                client_push(m, m->clients[i - 1]);
                sweep_clients(m);
        }
        drop_all_clients(m);
}

static bool stop_requested(const struct monitor *m)
{
        return m->stop || faccessat(m->dirfd, MONITOR_STOP_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool want_restart(const struct monitor *m, int code)
{
        const struct restart_policy *p = &m->cfg->restart;

        if (stop_requested(m))
                return false;
        switch (p->mode) {
        case RESTART_ALWAYS:
                return true;
        case RESTART_ON_FAILURE:
                return code != 0 && (p->max_retries == 0 || m->st.restart_count < p->max_retries);
        default:
                return false;
        }
}

/* Records the exit; returns whether the restart policy wants another run. */
static bool record_exit(struct monitor *m)
{
        int ws = m->wait_status;
        bool again;

        if (m->log) {
                _cleanup_berr_ struct berr *e = NULL;
                if (ctrlog_flush(m->log, time_now_ns(), &e) < 0 && !m->log_warned)
                        log_warn("%s", e->msg);
        }
        m->st.has_exit = true;
        m->st.exit_signal = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
        m->st.exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + m->st.exit_signal;
        m->st.oom_killed = oom_watch_fired(&m->oom);
        m->st.exited_ns = m->exited_ns;
        m->st.pid = 0;
        again = want_restart(m, m->st.exit_code);
        m->st.status = again ? MONITOR_RESTARTING : MONITOR_EXITED;
        save_state(m);
        send_exit(m, m->st.exit_code);
        return again;
}

/* Sleeps the backoff delay; false when a stop came meanwhile. */
static bool backoff(struct monitor *m)
{
        int64_t deadline;

        if (m->backoff_ns == 0 || m->exited_mono - m->started_mono >= BACKOFF_RESET_NS)
                m->backoff_ns = BACKOFF_FIRST_NS;
        else
                m->backoff_ns = MIN(m->backoff_ns * 2, BACKOFF_MAX_NS);
        deadline = time_mono_ns() + m->backoff_ns;
        while (!stop_requested(m)) {
                struct pollfd pfd = {m->sig_fd, POLLIN, 0};
                int64_t left = deadline - time_mono_ns();

                if (left <= 0)
                        return true;
                if (poll(&pfd, 1, (int)(left / 1000000) + 1) > 0)
                        handle_signals(m);
        }
        return false;
}

static int restart_container(struct monitor *m, struct berr **err)
{
        int r;

        close_instance(m);
        r = runtime_delete(m, err);
        if (r < 0)
                return r;
        /* A stop may have come while the runtime ran: nothing new may start then. */
        if (stop_requested(m))
                return 1;
        m->created_before = true;
        r = create_instance(m, err);
        if (r < 0)
                return r;
        r = start_instance(m, err);
        if (r < 0)
                return r;
        m->st.restart_count++;
        save_state(m);
        return 0;
}

static void spawn_exit_command(struct monitor *m)
{
        _cleanup_strv_free_ char **argv = NULL;
        int stdio[3] = {m->null_fd, m->null_fd, m->null_fd};
        pid_t pid;

        if (strv_extend(&argv, m->cfg->exit_command) < 0)
                return;
        STRV_FOREACH (a, m->cfg->exit_command_args)
                if (strv_extend(&argv, *a) < 0)
                        return;
        /* Not waited for: the engine's cleanup must find the monitor gone. */
        pid = fork();
        if (pid < 0) {
                log_error("fork for exit command `%s`: %m", argv[0]);
                return;
        }
        if (pid == 0) {
                setsid();
                child_reset(stdio);
                execvp(argv[0], argv);
                _exit(127);
        }
}

/* The container is done for good: tidy up and let go of the state directory. */
static void finish(struct monitor *m)
{
        if (m->cfg->cleanup && m->created) {
                _cleanup_berr_ struct berr *e = NULL;
                if (runtime_delete(m, &e) < 0)
                        log_error("%s", e->msg);
        }
        drop_all_clients(m);
        m->listen_fd = safe_close(m->listen_fd);
        unlinkat(m->dirfd, ATTACH_SOCKET, 0);
        unlinkat(m->dirfd, MONITOR_PID_FILE, 0);
        unlinkat(m->dirfd, MONITOR_CTR_PID, 0);
        close_instance(m);
        ctrlog_writer_free(TAKE_PTR(m->log));
        m->lock_fd = safe_close(m->lock_fd);
        if (m->cfg->exit_command)
                spawn_exit_command(m);
}

int monitor_run(struct monitor *m, struct berr **err)
{
        _cleanup_berr_ struct berr *e = NULL;
        int r;

        for (;;) {
                r = serve(m, &e);
                if (r < 0 || !record_exit(m) || !backoff(m))
                        break;
                r = restart_container(m, &e);
                if (r != 0)
                        break;
        }
        if (r > 0)
                r = 0; /* a stop came during a restart */
        if (r < 0) {
                free(m->st.error);
                m->st.error = strdup(e->msg);
        }
        if (r < 0 || m->st.status != MONITOR_EXITED) {
                m->st.status = MONITOR_EXITED;
                m->st.pid = 0;
                save_state(m);
        }
        finish(m);
        if (r < 0)
                berr_move(err, &e);
        return r;
}

static int write_pid_file(struct monitor *m, struct berr **err)
{
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

        return write_file_atomic_at(m->dirfd, MONITOR_PID_FILE, buf, (size_t)n, 0644, err);
}

int monitor_setup(const struct monitor_config *cfg, struct monitor **out, pid_t *pid, struct berr **err)
{
        _cleanup_monitor_ struct monitor *m = calloc(1, sizeof(*m));
        sigset_t set;
        int r;

        if (!m)
                return berr_make(err, ENOMEM, "monitor");
        m->cfg = cfg;
        m->dirfd = m->lock_fd = m->sig_fd = m->listen_fd = m->null_fd = -1;
        m->out_fd = m->err_fd = m->in_fd = -1;
        m->oom.dirfd = -1;

        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        sigaddset(&set, SIGUSR1);
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
                return berr_errno(err, "block signals");
        m->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
        if (m->sig_fd < 0)
                return berr_errno(err, "signalfd");
        signal(SIGPIPE, SIG_IGN);
        /* The container's init is reparented to us once the runtime exits. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return berr_errno(err, "become child subreaper");
        m->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (m->null_fd < 0)
                return berr_errno(err, "open /dev/null");
        m->dirfd = open(cfg->state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (m->dirfd < 0)
                return berr_errno(err, "open state directory `%s`", cfg->state_dir);
        m->lock_fd = monitor_lock(m->dirfd, err);
        if (m->lock_fd < 0)
                return berr_wrap(err, "state directory `%s`", cfg->state_dir);
        /* A stop file here is not stale: the engine empties the state directory before
         * it spawns a monitor, so it was written for this run by a stop that came while
         * the monitor started, and no run may be restarted after it. */
        r = write_pid_file(m, err);
        if (r < 0)
                return r;
        if (cfg->log_driver != CTRLOG_NONE) {
                r = ctrlog_writer_open(cfg->log_path, cfg->log_driver, cfg->log_size_max, cfg->log_max_files,
                                       &m->log, err);
                if (r < 0)
                        goto fail;
        }
        m->listen_fd = attach_listen_at(m->dirfd, ATTACH_SOCKET, err);
        if (m->listen_fd < 0) {
                r = m->listen_fd;
                goto fail;
        }
        m->st.monitor_pid = getpid();
        if (proc_start_time(m->st.monitor_pid, &m->st.monitor_start_time) < 0) {
                r = berr_errno(err, "read /proc/self/stat");
                goto fail;
        }
        r = create_instance(m, err);
        if (r < 0)
                goto fail;
        r = start_instance(m, err);
        if (r < 0)
                goto fail;
        r = monitor_state_write(m->dirfd, &m->st, err);
        if (r < 0) {
                _cleanup_berr_ struct berr *e = NULL;
                if (runtime_delete(m, &e) < 0)
                        log_error("%s", e->msg);
                goto fail;
        }
        *pid = m->pid;
        *out = TAKE_PTR(m);
        return 0;
fail:
        unlinkat(m->dirfd, ATTACH_SOCKET, 0);
        unlinkat(m->dirfd, MONITOR_PID_FILE, 0);
        return r;
}

void monitor_free(struct monitor *m)
{
        if (!m)
                return;
        drop_all_clients(m);
        close_instance(m);
        ctrlog_writer_free(m->log);
        safe_close(m->listen_fd);
        safe_close(m->sig_fd);
        safe_close(m->lock_fd);
        safe_close(m->dirfd);
        safe_close(m->null_fd);
        monitor_state_clear(&m->st);
        free(m);
}
