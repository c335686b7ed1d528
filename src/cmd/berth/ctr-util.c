/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>

#include "basic/fileio.h"
#include "basic/timeutil.h"
#include "ctr-util.h"
#include "engine/engine.h"
#include "engine/events.h"

int berth_engine(struct berth_ctx *ctx, struct engine **out, struct berr **err)
{
        struct engine_open_opts o = {.root = ctx->root, .runroot = ctx->runroot, .config = ctx->config};

        if (!ctx->engine) {
                if (berth_store(ctx, &o.store, err) < 0 || engine_open(&o, &ctx->engine, err) < 0) {
                        /* A damaged database: say where to go from here. */
                        if (err && *err && strstr((*err)->msg, "berth.db") &&
                            !strstr((*err)->msg, "locked")) {
                                char *msg = NULL;
                                if (asprintf(&msg, "%s (see `berth system check`)", (*err)->msg) >= 0) {
                                        free((*err)->msg);
                                        (*err)->msg = msg;
                                }
                        }
                        return -1;
                }
        }
        *out = ctx->engine;
        return 0;
}

void berth_event(struct berth_ctx *ctx, const char *type, const char *action, const char *id,
                 const char *const *attrs)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct engine *e;

        /* An event never fails the command that did the work. */
        if (berth_engine(ctx, &e, &err) == 0)
                engine_event_emit(e, type, action, id, attrs);
}

int ctr_lookup(struct engine *e, const char *input, struct container **out, struct berr **err)
{
        int r = container_lookup(e->db, input, out, err);

        if (r == 0)
                berr_make(err, 0, "no such container: %s", input);
        return r;
}

void ctr_human_duration(int64_t ns, char *buf, size_t size)
{
        int64_t s = ns / 1000000000LL, m = s / 60, h = (s + 1800) / 3600;

        if (s < 1)
                snprintf(buf, size, "Less than a second");
        else if (s == 1)
                snprintf(buf, size, "1 second");
        else if (s < 60)
                snprintf(buf, size, "%lld seconds", (long long)s);
        else if (m == 1)
                snprintf(buf, size, "About a minute");
        else if (m < 60)
                snprintf(buf, size, "%lld minutes", (long long)m);
        else if (h == 1)
                snprintf(buf, size, "About an hour");
        else if (h < 48)
                snprintf(buf, size, "%lld hours", (long long)h);
        else if (h < 24 * 7 * 2)
                snprintf(buf, size, "%lld days", (long long)(h / 24));
        else if (h < 24 * 30 * 2)
                snprintf(buf, size, "%lld weeks", (long long)(h / 24 / 7));
        else if (h < 24 * 365 * 2)
                snprintf(buf, size, "%lld months", (long long)(h / 24 / 30));
        else
                snprintf(buf, size, "%lld years", (long long)(h / 24 / 365));
}

void ctr_status_text(const struct container_state *st, char *buf, size_t size)
{
        char d[64];
        int64_t now = time_now_ns();

        switch (st->status) {
        case CONTAINER_RUNNING:
        case CONTAINER_PAUSED:
                ctr_human_duration(now - st->started_ns, d, sizeof(d));
                snprintf(buf, size, "Up %s%s", d, st->status == CONTAINER_PAUSED ? " (Paused)" : "");
                return;
        case CONTAINER_RESTARTING:
                ctr_human_duration(now - st->finished_ns, d, sizeof(d));
                snprintf(buf, size, "Restarting (%d) %s ago", st->exit_code, d);
                return;
        case CONTAINER_EXITED:
                if (!st->finished_ns) {
                        snprintf(buf, size, "Exited (%d)", st->exit_code);
                        return;
                }
                ctr_human_duration(now - st->finished_ns, d, sizeof(d));
                snprintf(buf, size, "Exited (%d) %s ago", st->exit_code, d);
                return;
        case CONTAINER_DEAD:
                snprintf(buf, size, "Dead");
                return;
        case CONTAINER_REMOVING:
                snprintf(buf, size, "Removal In Progress");
                return;
        case CONTAINER_CREATED:
                snprintf(buf, size, "Created");
                return;
        }
}

int ctr_exit_code(struct engine *e, const char *id)
{
        _cleanup_container_ struct container *c = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        struct container_state st;
        int code;

        if (container_get(e->db, id, &c, &err) <= 0 || container_state_derive(e, c, &st, &err) < 0)
                return EXIT_BERTH;
        code = st.exit_code;
        container_state_done(&st);
        return code;
}

int ctr_parse_detach_keys(const char *s, struct attach_session *as)
{
        as->n_detach_keys = 0;
        while (s && *s) {
                size_t len = strcspn(s, ",");
                uint8_t key;

                if (as->n_detach_keys >= sizeof(as->detach_keys))
                        return -EINVAL;
                if (len == 1) {
                        key = (uint8_t)s[0];
                } else if (len == 6 && strneq(s, "ctrl-", 5)) {
                        char c = s[5];
                        if (c >= 'a' && c <= 'z')
                                key = (uint8_t)(c - 'a' + 1);
                        else if (c == '@')
                                key = 0;
                        else if (c == '[' || c == '\\' || c == ']' || c == '^' || c == '_')
                                key = (uint8_t)(c - '@');
                        else
                                return -EINVAL;
                } else {
                        return -EINVAL;
                }
                as->detach_keys[as->n_detach_keys++] = key;
                s += len;
                if (*s == ',')
                        s++;
        }
        return 0;
}

static void send_size(struct attach_session *as)
{
        struct winsize ws;
        _cleanup_berr_ struct berr *err = NULL;

        if (as->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
                attach_send_resize(as->conn, ws.ws_row, ws.ws_col, &err);
}

/* Forwards input, holding back a possible start of the detach sequence. 1: detach. */
static int forward_input(struct attach_session *as, const uint8_t *buf, size_t n, size_t *matched,
                         struct berr **err)
{
        uint8_t out[4096 + 16];
        size_t len = 0;

        for (size_t i = 0; i < n; i++) {
                if (as->n_detach_keys && buf[i] == as->detach_keys[*matched]) {
                        if (++*matched == as->n_detach_keys)
                                return 1;
                        continue;
                }
                if (*matched) {
                        memcpy(out + len, as->detach_keys, *matched);
                        len += *matched;
                        *matched = 0;
                        if (as->n_detach_keys && buf[i] == as->detach_keys[0]) {
                                *matched = 1;
                                continue;
                        }
                }
                out[len++] = buf[i];
        }
        if (len && attach_send(as->conn, ATTACH_STDIN, out, (uint32_t)len, err) < 0)
                return -1;
        return 0;
}

int ctr_attach_session(struct attach_session *as, struct berr **err)
{
        struct termios saved;
        bool raw = false, stdin_open = as->forward_stdin;
        sigset_t set, old;
        _cleanup_close_ int sfd = -1;
        size_t matched = 0;
        int code = -1;

        sigemptyset(&set);
        sigaddset(&set, SIGWINCH);
        if (as->sig_proxy) {
                static const int proxied[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
                for (size_t i = 0; i < ARRAY_SIZE(proxied); i++)
                        sigaddset(&set, proxied[i]);
        }
        sigprocmask(SIG_BLOCK, &set, &old);
        sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (as->tty && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
                struct termios t = saved;
                cfmakeraw(&t);
                /* Output post-processing stays on so that "\n" from berth's own messages works. */
                t.c_oflag = saved.c_oflag;
                raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
        }
        send_size(as);
        for (;;) {
                struct attach_event ev;
                struct pollfd p[3];
                int r;

                while ((r = attach_next(as->conn, false, &ev, err)) > 0) {
                        switch (ev.type) {
                        case ATTACH_EV_OUTPUT:
                                (void)write_all(ev.stream == ATTACH_STDERR ? STDERR_FILENO : STDOUT_FILENO,
                                                ev.data, ev.len);
                                break;
                        case ATTACH_EV_EXIT:
                                code = ev.exit_code;
                                goto out;
                        case ATTACH_EV_ERROR:
                                berr_make(err, 0, "monitor: %.*s", (int)ev.len, (const char *)ev.data);
                                goto out;
                        case ATTACH_EV_EOF:
                                code = ctr_exit_code(as->engine, as->id);
                                goto out;
                        }
                }
                if (r < 0)
                        goto out;
                p[0] = (struct pollfd){as->conn->fd, POLLIN, 0};
                p[1] = (struct pollfd){stdin_open ? STDIN_FILENO : -1, POLLIN, 0};
                p[2] = (struct pollfd){sfd, POLLIN, 0};
                if (poll(p, 3, -1) < 0 && errno != EINTR) {
                        berr_errno(err, "poll");
                        goto out;
                }
                if (p[1].revents) {
                        uint8_t buf[4096];
                        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
                        if (n > 0) {
                                r = forward_input(as, buf, (size_t)n, &matched, err);
                                if (r < 0)
                                        goto out;
                                if (r > 0) {
                                        _cleanup_berr_ struct berr *e2 = NULL;
                                        attach_send(as->conn, ATTACH_DETACH, NULL, 0, &e2);
                                        code = ATTACH_DETACHED;
                                        goto out;
                                }
                        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                                _cleanup_berr_ struct berr *e2 = NULL;
                                stdin_open = false;
                                if (!as->tty)
                                        attach_send(as->conn, ATTACH_CLOSE_STDIN, NULL, 0, &e2);
                        }
                }
                if (p[2].revents) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                _cleanup_berr_ struct berr *e2 = NULL;
                                if (si.ssi_signo == SIGWINCH)
                                        send_size(as);
                                else
                                        engine_container_kill(as->engine, as->id, (int)si.ssi_signo, &e2);
                        }
                }
        }
out:
        if (raw)
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return code;
}
