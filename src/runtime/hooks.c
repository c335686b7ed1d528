/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/log.h"
#include "basic/timeutil.h"
#include "internal.h"

#define HOOK_OUTPUT_MAX 4096

/* Runs one hook with the state on stdin; its output is kept for the error message. */
static int hook_run(const struct oci_hook *h, const char *kind, const char *state, struct berr **err)
{
        int in[2] = {-1, -1}, out[2] = {-1, -1};
        char output[HOOK_OUTPUT_MAX];
        size_t used = 0;
        int64_t end = h->timeout > 0 ? time_mono_ns() / 1000000 + (int64_t)h->timeout * 1000 : -1;
        _cleanup_close_ int pidfd = -1;
        int status = 0, r = 0;
        pid_t pid;

        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
                r = berr_errno(err, "hook pipe");
                goto out;
        }
        pid = fork();
        if (pid < 0) {
                r = berr_errno(err, "fork hook");
                goto out;
        }
        if (pid == 0) {
                char *default_args[] = {h->path, NULL};
                char *empty_env[] = {NULL};
                process_reset_signals();
                if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
                        _exit(126);
                execve(h->path, h->args ? h->args : default_args, h->env ? h->env : empty_env);
                _exit(127);
        }
        close(in[0]);
        close(out[1]);
        in[0] = out[1] = -1;
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        /* The hook may not read its stdin; never block on it. */
        fcntl(in[1], F_SETFL, O_NONBLOCK);
        (void)write(in[1], state, strlen(state));
        close(in[1]);
        in[1] = -1;
        for (;;) {
                struct pollfd pfd[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = out[0], .events = POLLIN}};
                int64_t left = end < 0 ? -1 : MAX(0, end - time_mono_ns() / 1000000);
                int n = poll(pfd, out[0] >= 0 ? 2 : 1, (int)left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = berr_errno(err, "wait for %s hook", kind);
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                        goto out;
                }
                if (n == 0) {
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                        r = berr_make(err, ETIMEDOUT, "%s hook `%s` did not finish within %d seconds", kind,
                                      h->path, h->timeout);
                        goto out;
                }
                if (out[0] >= 0 && pfd[1].revents) {
                        char buf[1024];
                        ssize_t k = read(out[0], buf, sizeof(buf));
                        if (k > 0) {
                                size_t c = MIN((size_t)k, sizeof(output) - 1 - used);
                                memcpy(output + used, buf, c);
                                used += c;
                        } else {
                                out[0] = safe_close(out[0]);
                        }
                }
                /* Once the hook exits, output still held open by its children is not waited for. */
                if (pfd[0].revents && waitpid(pid, &status, 0) == pid)
                        break;
        }
        output[used] = '\0';
        while (used > 0 && output[used - 1] == '\n')
                output[--used] = '\0';
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                goto out;
        if (WIFEXITED(status))
                r = berr_make(err, 0, "%s hook `%s` failed: exit status %d%s%s", kind, h->path, WEXITSTATUS(status),
                              used ? ": " : "", output);
        else
                r = berr_make(err, 0, "%s hook `%s` was killed by signal %d%s%s", kind, h->path, WTERMSIG(status),
                              used ? ": " : "", output);
out:
        safe_close(in[0]);
        safe_close(in[1]);
        safe_close(out[0]);
        safe_close(out[1]);
        return r;
}

int hooks_run(const struct oci_spec *spec, enum oci_hook_kind kind, json_object *state, struct berr **err)
{
        const char *txt;
        bool warn_only = kind == OCI_HOOK_POSTSTART || kind == OCI_HOOK_POSTSTOP;

        if (spec->n_hooks[kind] == 0)
                return 0;
        txt = json_to_string(state, false);
        for (size_t i = 0; i < spec->n_hooks[kind]; i++) {
                struct berr *e = NULL;
                if (hook_run(&spec->hooks[kind][i], oci_hook_kind_name(kind), txt, &e) < 0) {
                        /* The spec: a failing poststart/poststop hook is a warning, and the rest still run. */
                        if (warn_only) {
                                log_warn("%s", e->msg);
                                berr_free(e);
                                continue;
                        }
                        berr_move(err, &e);
                        return -1;
                }
        }
        return 0;
}
