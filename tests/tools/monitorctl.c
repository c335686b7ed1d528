/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test client of libmonitor, for tests/integration/monitor.bats; what `berth
 * attach` and `berth logs` will do, without the engine around it.
 *
 *   monitorctl attach [--no-stdin] [--no-read] [--detach-on-eof] [--resize RxC] [--ready-file F] STATE_DIR
 *   monitorctl logs --driver k8s-file|json-file [-f] [--since T] [--until T] [--tail N] [-t]
 *                   [--state-dir DIR] LOG_PATH
 *   monitorctl alive STATE_DIR
 *   monitorctl signal STATE_DIR SIGNUM
 *   monitorctl state STATE_DIR
 */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/timeutil.h"
#include "monitor/attach.h"
#include "monitor/ctrlog.h"
#include "monitor/status.h"

static int fail(struct berr *e)
{
        fprintf(stderr, "monitorctl: %s\n", e ? e->msg : "failed");
        return 1;
}

static int cmd_attach(int argc, char **argv)
{
        static const struct option opts[] = {
            {"no-stdin", no_argument, NULL, 'n'},         {"no-read", no_argument, NULL, 'N'},
            {"detach-on-eof", no_argument, NULL, 'd'},    {"resize", required_argument, NULL, 'r'},
            {"ready-file", required_argument, NULL, 'R'}, {},
        };
        _cleanup_berr_ struct berr *e = NULL;
        _cleanup_attach_conn_ struct attach_conn *c = NULL;
        bool use_stdin = true, detach_on_eof = false, detached = false, no_read = false;
        unsigned rows = 0, cols = 0;
        const char *ready = NULL;
        int o, exit_code = -1;

        while ((o = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (o) {
                case 'n':
                        use_stdin = false;
                        break;
                case 'd':
                        detach_on_eof = true;
                        break;
                case 'N':
                        no_read = true;
                        break;
                case 'r':
                        if (sscanf(optarg, "%ux%u", &rows, &cols) != 2)
                                return fprintf(stderr, "monitorctl: bad --resize\n"), 2;
                        break;
                case 'R':
                        ready = optarg;
                        break;
                default:
                        return 2;
                }
        }
        if (optind + 1 != argc)
                return fprintf(stderr, "monitorctl attach: STATE_DIR expected\n"), 2;
        if (attach_connect(argv[optind], &c, &e) < 0)
                return fail(e);
        if (rows && attach_send_resize(c, rows, cols, &e) < 0)
                return fail(e);
        if (ready && write_file_at(AT_FDCWD, ready, "", 0, O_CREAT | O_TRUNC, 0644, &e) < 0)
                return fail(e);
        /* A stuck client (a stopped `berth attach`): attached, never reading. */
        while (no_read)
                pause();
        for (;;) {
                struct pollfd pfd[2] = {{c->fd, POLLIN, 0}, {use_stdin ? 0 : -1, POLLIN, 0}};
                struct attach_event ev;
                int r;

                if (poll(pfd, 2, -1) < 0)
                        continue;
                if (pfd[1].revents) {
                        char buf[4096];
                        ssize_t n = read(0, buf, sizeof(buf));
                        int sent;
                        if (n > 0) {
                                sent = attach_send(c, ATTACH_STDIN, buf, (uint32_t)n, NULL);
                        } else {
                                use_stdin = false;
                                detached = detach_on_eof;
                                sent = attach_send(c, detached ? ATTACH_DETACH : ATTACH_CLOSE_STDIN, NULL, 0,
                                                   NULL);
                        }
                        /* The monitor may be done already: what it sent is still to be read. */
                        if (sent < 0)
                                use_stdin = false;
                }
                if (!pfd[0].revents)
                        continue;
                while ((r = attach_next(c, false, &ev, &e)) > 0) {
                        switch (ev.type) {
                        case ATTACH_EV_OUTPUT:
                                (void)write_all(ev.stream == ATTACH_STDERR ? 2 : 1, ev.data, ev.len);
                                break;
                        case ATTACH_EV_EXIT:
                                exit_code = ev.exit_code;
                                break;
                        case ATTACH_EV_ERROR:
                                fprintf(stderr, "monitorctl: monitor: %.*s\n", (int)ev.len, ev.data);
                                break;
                        case ATTACH_EV_EOF:
                                if (exit_code >= 0)
                                        return exit_code;
                                if (detached)
                                        return 0;
                                fprintf(stderr, "monitorctl: the monitor closed the connection\n");
                                return 1;
                        }
                }
                if (r < 0)
                        return fail(e);
        }
}

struct logs_ctx {
        bool timestamps;
        bool line_start[2];
        const char *state_dir;
};

static int print_record(const struct ctrlog_record *rec, void *userdata, struct berr **err)
{
        struct logs_ctx *ctx = userdata;
        int fd = rec->stream == CTRLOG_STDERR ? 2 : 1;

        if (ctx->timestamps && ctx->line_start[rec->stream]) {
                char ts[64];
                dprintf(fd, "%s ", time_format_rfc3339(rec->time_ns, ts, sizeof(ts)));
        }
        (void)write_all(fd, rec->msg, rec->len);
        if (!rec->partial)
                (void)write_all(fd, "\n", 1);
        ctx->line_start[rec->stream] = !rec->partial;
        return 0;
}

static bool monitor_gone(void *userdata)
{
        struct logs_ctx *ctx = userdata;

        return ctx->state_dir && monitor_probe(ctx->state_dir, NULL) == 0;
}

static int cmd_logs(int argc, char **argv)
{
        static const struct option opts[] = {
            {"driver", required_argument, NULL, 'D'},    {"follow", no_argument, NULL, 'f'},
            {"since", required_argument, NULL, 's'},     {"until", required_argument, NULL, 'u'},
            {"tail", required_argument, NULL, 'n'},      {"timestamps", no_argument, NULL, 't'},
            {"state-dir", required_argument, NULL, 'S'}, {},
        };
        _cleanup_berr_ struct berr *e = NULL;
        struct ctrlog_read_opts ro = {.driver = CTRLOG_K8S_FILE, .tail = -1, .done = monitor_gone};
        struct logs_ctx ctx = {.line_start = {true, true}};
        int o;

        while ((o = getopt_long(argc, argv, "ft", opts, NULL)) >= 0) {
                switch (o) {
                case 'D':
                        if (ctrlog_parse_driver(optarg, &ro.driver) < 0)
                                return fprintf(stderr, "monitorctl: bad --driver\n"), 2;
                        break;
                case 'f':
                        ro.follow = true;
                        break;
                case 's':
                        if (ctrlog_parse_since(optarg, time_now_ns(), &ro.since_ns, &e) < 0)
                                return fail(e);
                        break;
                case 'u':
                        if (ctrlog_parse_since(optarg, time_now_ns(), &ro.until_ns, &e) < 0)
                                return fail(e);
                        break;
                case 'n':
                        if (ctrlog_parse_tail(optarg, &ro.tail, &e) < 0)
                                return fail(e);
                        break;
                case 't':
                        ctx.timestamps = true;
                        break;
                case 'S':
                        ctx.state_dir = optarg;
                        break;
                default:
                        return 2;
                }
        }
        if (optind + 1 != argc)
                return fprintf(stderr, "monitorctl logs: LOG_PATH expected\n"), 2;
        if (ctrlog_read(argv[optind], &ro, print_record, &ctx, &e) < 0)
                return fail(e);
        return 0;
}

static int cmd_state(const char *dir)
{
        _cleanup_berr_ struct berr *e = NULL;
        struct monitor_state st;

        if (monitor_state_read(dir, &st, &e) < 0)
                return fail(e);
        printf("status=%s\npid=%d\nrestartCount=%u\n", monitor_status_name(st.status), (int)st.pid,
               st.restart_count);
        if (st.has_exit)
                printf("exitCode=%d\nsignal=%d\noomKilled=%s\n", st.exit_code, st.exit_signal,
                       st.oom_killed ? "true" : "false");
        if (st.error)
                printf("error=%s\n", st.error);
        monitor_state_clear(&st);
        return 0;
}

int main(int argc, char **argv)
{
        _cleanup_berr_ struct berr *e = NULL;
        int r;

        signal(SIGPIPE, SIG_IGN);
        if (argc < 2)
                return fprintf(stderr, "usage: monitorctl attach|logs|alive|signal|state ...\n"), 2;
        if (streq(argv[1], "attach"))
                return cmd_attach(argc - 1, argv + 1);
        if (streq(argv[1], "logs"))
                return cmd_logs(argc - 1, argv + 1);
        if (streq(argv[1], "alive") && argc == 3) {
                r = monitor_probe(argv[2], &e);
                return r < 0 ? fail(e) : r ? 0 : 1;
        }
        if (streq(argv[1], "signal") && argc == 4)
                return monitor_signal(argv[2], atoi(argv[3]), &e) < 0 ? fail(e) : 0;
        if (streq(argv[1], "state") && argc == 3)
                return cmd_state(argv[2]);
        fprintf(stderr, "monitorctl: unknown command or wrong arguments\n");
        return 2;
}
