/* SPDX-License-Identifier: Apache-2.0 */
/* Foreground containers: forward signals, proxy the terminal, reap. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "basic/timeutil.h"
#include "internal.h"

int kill_and_wait(int pidfd, int timeout_ms)
{
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        int r;

        if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                return -errno;
        do
                r = poll(&pfd, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        return r > 0 ? 0 : -ETIMEDOUT;
}

static void copy_winsize(int master)
{
        struct winsize ws;

        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                (void)ioctl(master, TIOCSWINSZ, &ws);
}

static int exit_code(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 255;
}

/* Reaps every exited child (we are a subreaper); returns 1 once pid is gone. */
static int reap(pid_t pid, int *exit_status)
{
        int status, done = 0;
        pid_t w;

        while ((w = waitpid(-1, &status, WNOHANG)) > 0)
                if (w == pid) {
                        *exit_status = exit_code(status);
                        done = 1;
                }
        return done;
}

int wait_foreground(pid_t pid, int pidfd, int master, int *exit_status, struct berr **err)
{
        sigset_t all, old;
        struct termios saved;
        bool raw = false;
        int sfd, stdin_open = master >= 0;
        int r = 0;

        sigfillset(&all);
        sigdelset(&all, SIGKILL);
        sigdelset(&all, SIGSTOP);
        sigprocmask(SIG_BLOCK, &all, &old);
        sfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0) {
                r = berr_errno(err, "signalfd");
                goto out;
        }
        if (master >= 0 && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
                struct termios t = saved;
                cfmakeraw(&t);
                t.c_oflag = saved.c_oflag;
                raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
                copy_winsize(master);
        }
        if (reap(pid, exit_status))
                goto drain;
        for (;;) {
                struct pollfd pfd[3] = {{.fd = sfd, .events = POLLIN},
                                        {.fd = master, .events = POLLIN},
                                        {.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN}};
                int n = poll(pfd, 3, -1);
                struct signalfd_siginfo si;
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = berr_errno(err, "poll");
                        goto out;
                }
                if (master >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
                        console_copy_step(master, 1, &stdin_open);
                if (pfd[2].revents)
                        console_copy_step(master, 2, &stdin_open);
                if (!(pfd[0].revents & POLLIN))
                        continue;
                while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                        if (si.ssi_signo == SIGCHLD)
                                continue;
                        if (si.ssi_signo == SIGWINCH) {
                                if (master >= 0)
                                        copy_winsize(master);
                                continue;
                        }
                        (void)syscall(SYS_pidfd_send_signal, pidfd, si.ssi_signo, NULL, 0);
                }
                if (reap(pid, exit_status))
                        break;
        }
drain:
        /* Output the container wrote just before exiting. */
        if (master >= 0) {
                struct pollfd pfd = {.fd = master, .events = POLLIN};
                while (poll(&pfd, 1, 50) > 0 && (pfd.revents & POLLIN)) {
                        char buf[16384];
                        ssize_t n = read(master, buf, sizeof(buf));
                        if (n <= 0)
                                break;
                        (void)write(STDOUT_FILENO, buf, (size_t)n);
                }
        }
out:
        if (raw)
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        safe_close(sfd);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}
