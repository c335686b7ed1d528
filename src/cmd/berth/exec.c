/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "ctr-util.h"
#include "engine/engine.h"
#include "engine/exec.h"

static const struct berth_usage usage = {
    .usage = "berth exec [options] CONTAINER COMMAND [ARG...]",
    .summary = "Run a process in a running container",
    .options = "  -d, --detach           run in the background\n"
               "  -e, --env NAME[=VAL]   set an environment variable\n"
               "  -i, --interactive      keep stdin open\n"
               "  -t, --tty              allocate a terminal\n"
               "  -u, --user USER[:GRP]  user to run as\n"
               "  -w, --workdir DIR      working directory\n",
};

/* Our terminal <-> the pty master until the process closes it. */
static void proxy_terminal(int master, bool interactive)
{
        struct termios saved;
        bool raw = false, in_open = interactive;
        sigset_t set, old;
        _cleanup_close_ int sfd = -1;
        struct winsize ws;

        sigemptyset(&set);
        sigaddset(&set, SIGWINCH);
        sigprocmask(SIG_BLOCK, &set, &old);
        sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (interactive && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
                struct termios t = saved;
                cfmakeraw(&t);
                t.c_oflag = saved.c_oflag;
                raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
        }
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
                ioctl(master, TIOCSWINSZ, &ws);
        for (;;) {
                struct pollfd p[3] = {
                    {master, POLLIN, 0}, {in_open ? STDIN_FILENO : -1, POLLIN, 0}, {sfd, POLLIN, 0}};
                char buf[8192];
                ssize_t n;

                if (poll(p, 3, -1) < 0 && errno != EINTR)
                        break;
                if (p[0].revents) {
                        n = read(master, buf, sizeof(buf));
                        if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN)))
                                break; /* EIO once the process and its children closed the terminal */
                        if (n > 0)
                                (void)write_all(STDOUT_FILENO, buf, (size_t)n);
                }
                if (p[1].revents) {
                        n = read(STDIN_FILENO, buf, sizeof(buf));
                        if (n > 0)
                                (void)write_all(master, buf, (size_t)n);
                        else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                                in_open = false;
                                (void)write_all(master, "\x04", 1);
                        }
                }
                if (p[2].revents) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == sizeof(si))
                                if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
                                        ioctl(master, TIOCSWINSZ, &ws);
                }
        }
        if (raw)
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        sigprocmask(SIG_SETMASK, &old, NULL);
}

int cmd_exec(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"detach", no_argument, NULL, 'd'},
            {"env", required_argument, NULL, 'e'},
            {"interactive", no_argument, NULL, 'i'},
            {"tty", no_argument, NULL, 't'},
            {"user", required_argument, NULL, 'u'},
            {"workdir", required_argument, NULL, 'w'},
            {"privileged", no_argument, NULL, 'P'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_container_ struct container *ct = NULL;
        _cleanup_strv_free_ char **env = NULL;
        struct engine_exec_opts o = {0};
        struct engine_exec x = {.pty_master = -1, .console_fd = -1};
        bool interactive = false;
        struct engine *e;
        struct winsize ws;
        int c, code = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+hde:itu:w:", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'd':
                        o.detach = true;
                        break;
                case 'e':
                        if (strv_extend(&env, optarg) < 0)
                                return berth_failf(EXIT_BERTH, "out of memory");
                        break;
                case 'i':
                        interactive = true;
                        break;
                case 't':
                        o.tty = true;
                        break;
                case 'u':
                        o.user = optarg;
                        break;
                case 'w':
                        o.workdir = optarg;
                        break;
                case 'P':
                        return berth_failf(EXIT_BERTH, "--privileged is not supported for exec");
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (argc - optind < 2)
                return berth_usage_error(&usage, "\"berth exec\" requires at least 2 arguments");
        o.cmd = (const char *const *)argv + optind + 1;
        o.env = (const char *const *)env;
        if (o.tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
                o.rows = ws.ws_row;
                o.cols = ws.ws_col;
        }
        if (berth_engine(ctx, &e, &err) < 0 || ctr_lookup(e, argv[optind], &ct, &err) <= 0)
                return berth_fail(&err, EXIT_BERTH);
        /* Without -i the process gets no input, as with docker. */
        if (!interactive && !o.tty && !o.detach) {
                int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null_fd >= 0) {
                        dup2(null_fd, STDIN_FILENO);
                        close(null_fd);
                }
        }
        /* The runtime forwards the terminal's signals to the process; berth waits for it. */
        signal(SIGINT, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        if (engine_exec_start(e, ct, &o, &x, &err) < 0) {
                engine_exec_done(&x);
                return berth_fail(&err, EXIT_BERTH);
        }
        if (o.tty && !o.detach) {
                if (engine_exec_take_terminal(&x, &err) < 0)
                        berth_fail(&err, EXIT_BERTH);
                else
                        proxy_terminal(x.pty_master, interactive);
        }
        /* A runtime that could not run the process said why on our stderr already. */
        if (engine_exec_wait(e, &x, &code, &err) < 0)
                code = berth_fail(&err, EXIT_BERTH);
        engine_exec_done(&x);
        return code;
}
