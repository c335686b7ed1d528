/* SPDX-License-Identifier: Apache-2.0 */
/* exec: a new process in a running container's namespaces and cgroup. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/socket.h"
#include "container.h"
#include "internal.h"
#include "sync.h"

int container_exec_template(struct container *c, struct oci_process *out, struct berr **err)
{
        json_object *proc;

        if (container_load_spec(c, err) < 0)
                return -1;
        if (!json_object_object_get_ex(c->spec->raw, "process", &proc))
                return berr_make(err, 0, "container `%s` has no process in its config", c->id);
        return oci_process_parse(proc, "process", out, err);
}

struct exec_child {
        const struct oci_process *p;
        int sync_fd;
        int pidfd;
        int join_flags;
        int rootfd; /* the init's root, to enter when there is no mount namespace to join; or -1 */
        bool userns;
        int console_fd;
        bool pty_to_runtime;
        struct seccomp_prog *seccomp;
        int extra_fds;
};

static int exec_child_run(struct exec_child *x, struct berr **err)
{
        _cleanup_free_ char *path = NULL;
        struct sync_msg msg;

        process_reset_signals();
        {
                /* The runtime's other fds (state dir, log) must not be reachable
                 * from the container while we join it (CVE-2024-21626). */
                int keep[] = {x->sync_fd, x->pidfd, x->console_fd, x->rootfd};
                close_fds_except(3 + x->extra_fds, keep, ARRAY_SIZE(keep));
                log_setup(-1, LOG_FORMAT_TEXT, LOG_LEVEL_ERROR);
        }
        /* Before entering: no container process may open our /proc/<pid>/exe
         * or ptrace us while we still run runtime code (CVE-2019-5736, CVE-2016-9962). */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return berr_errno(err, "set non-dumpable");
        /* pid and time namespaces apply to our children: the process the
         * container can see is born after the fds are closed and the other
         * namespaces joined, so it never holds anything of the host's. */
        if (x->join_flags && setns(x->pidfd, x->join_flags) < 0)
                return berr_errno(err, "join the container's namespaces");
        if (x->rootfd >= 0) {
                if (fchdir(x->rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
                        return berr_errno(err, "enter the container's root");
                x->rootfd = safe_close(x->rootfd);
        }
        if (sync_expect(x->sync_fd, SYNC_GO, &msg, err) < 0)
                return -1;
        if (x->join_flags & (CLONE_NEWPID | CLONE_NEWTIME)) {
                pid_t pid = fork();
                if (pid < 0)
                        return berr_errno(err, "fork into the container's pid namespace");
                if (pid > 0) {
                        (void)sync_send(x->sync_fd, SYNC_PID, pid, NULL);
                        _exit(0);
                }
        }
        if (x->p->terminal) {
                _cleanup_close_ int master = console_create(x->p, err);
                int r = 0;
                if (master < 0)
                        return -1;
                if (x->console_fd >= 0)
                        r = socket_send_fds(x->console_fd, &master, 1, "/dev/ptmx", 9);
                else if (x->pty_to_runtime)
                        r = sync_send_fd(x->sync_fd, SYNC_PTY, master);
                if (r < 0)
                        return berr_make(err, -r, "send the pty master");
                x->console_fd = safe_close(x->console_fd);
        }
        if (process_apply_limits(x->p, err) < 0 || process_lookup(x->p, &path, err) < 0)
                return -1;
        if (x->seccomp && seccomp_has_listener(x->seccomp)) {
                if (process_seccomp_listener(x->seccomp, x->sync_fd, err) < 0)
                        return -1;
                x->seccomp = NULL;
        }
        return process_exec(x->p, path, x->seccomp, x->userns, x->extra_fds, NULL, err);
}

static _noreturn_ void exec_child_main(struct exec_child *x)
{
        struct berr *err = NULL;

        exec_child_run(x, &err);
        if (!err)
                berr_make(&err, EIO, "exec failed");
        sync_send_error(x->sync_fd, err);
        _exit(err->code == ENOENT ? 127 : 126);
}

int container_exec(const struct runtime_ctx *ctx, const char *id, const struct exec_opts *o, int *exit_status,
                   struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        _cleanup_seccomp_prog_ struct seccomp_prog *seccomp = NULL;
        _cleanup_close_ int pidfd = -1, sync_fd = -1, child_pidfd = -1, master = -1, console_fd = -1, rootfd = -1;
        struct exec_child x = {.p = o->process, .console_fd = -1, .rootfd = -1, .extra_fds = o->preserve_fds};
        int sp[2], cgfd, r;
        enum oci_status st;
        struct sync_msg msg;
        pid_t pid;

        if (container_load(ctx, id, &c, err) < 0)
                return -1;
        st = container_status(c);
        if (st == OCI_STATUS_STOPPED)
                return berr_make(err, 0, "cannot exec in a stopped container");
        if (st == OCI_STATUS_PAUSED)
                return berr_make(err, 0, "cannot exec in a paused container");
        if (container_load_spec(c, err) < 0)
                return -1;
        if (o->process->terminal && o->detach && !o->console_socket)
                return berr_make(err, 0, "cannot allocate a tty when detaching without --console-socket");
        if (!o->process->terminal && o->console_socket)
                return berr_make(err, 0, "--console-socket given but the process has no terminal");
        if (c->spec->linux_.seccomp) {
                _cleanup_close_ int cache_fd = seccomp_cache_open(ctx->root);
                if (seccomp_prepare_cached(c->spec->linux_.seccomp, cache_fd, &seccomp, err) < 0)
                        return -1;
        }
        pidfd = pidfd_open_checked(c->pid, c->pid_start);
        if (pidfd < 0)
                return berr_make(err, ESRCH, "container `%s` is not running", id);
        for (size_t i = 0; i < c->spec->linux_.n_namespaces; i++)
                x.join_flags |= oci_ns_clone_flag(c->spec->linux_.namespaces[i].type);
        x.userns = oci_spec_ns(c->spec, OCI_NS_USER) != NULL;
        if (!oci_spec_ns(c->spec, OCI_NS_MNT)) {
                /* Joining the namespaces does not chroot: take the init's root, and
                 * check through the pidfd that the pid was still the init's. */
                char p[64];
                snprintf(p, sizeof(p), "/proc/%d/root", (int)c->pid);
                rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (rootfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
                        return berr_make(err, ESRCH, "container `%s` is not running", id);
                x.rootfd = rootfd;
        }
        x.pidfd = pidfd;
        x.seccomp = seccomp;
        x.pty_to_runtime = o->process->terminal && !o->detach && !o->console_socket;
        if (o->console_socket) {
                console_fd = unix_connect(o->console_socket, SOCK_STREAM);
                if (console_fd < 0)
                        return berr_make(err, -console_fd, "connect to console socket `%s`", o->console_socket);
                x.console_fd = console_fd;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return berr_errno(err, "socketpair");
        sync_fd = sp[0];
        x.sync_fd = sp[1];
        if (!o->detach)
                (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        cgfd = c->cg ? cgroup_clone_into_fd(c->cg) : -1;
        pid = clone_fork(0, cgfd, &child_pidfd);
        if (pid < 0) {
                close(sp[1]);
                return berr_errno(err, "fork exec process");
        }
        if (pid == 0) {
                close(sp[0]);
                exec_child_main(&x);
        }
        close(sp[1]);
        if (cgfd < 0 && c->cg && cgroup_enter(c->cg, pid, err) < 0)
                goto fail;
        if (sync_send(sync_fd, SYNC_GO, pid, NULL) < 0) {
                berr_make(err, EPIPE, "exec process exited unexpectedly");
                goto fail;
        }
        for (;;) {
                int passfd = -1;
                r = sync_recv(sync_fd, &msg, &passfd);
                if (r < 0) {
                        berr_make(err, -r, "sync with exec process");
                        goto fail;
                }
                if (r == 0)
                        break; /* execve closed the socket */
                if (msg.type == SYNC_PTY) {
                        safe_close(master);
                        master = passfd;
                        continue;
                }
                if (msg.type == SYNC_PID) {
                        /* The process in the container is the first child's child. */
                        waitpid(pid, NULL, 0);
                        pid = msg.value;
                        safe_close(child_pidfd);
                        child_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
                        if (child_pidfd < 0) {
                                berr_errno(err, "pidfd of the exec process");
                                goto fail;
                        }
                        continue;
                }
                if (msg.type == SYNC_SECCOMP_FD) {
                        json_object *state = container_state_json(c, OCI_STATUS_RUNNING, false);
                        safe_close(passfd);
                        r = seccomp_forward_to_listener(seccomp, child_pidfd, msg.value, pid, state, err);
                        json_object_put(state);
                        if (r < 0)
                                goto fail;
                        if (sync_send(sync_fd, SYNC_SECCOMP_DONE, 0, NULL) < 0) {
                                berr_make(err, EPIPE, "exec process exited unexpectedly");
                                goto fail;
                        }
                        continue;
                }
                safe_close(passfd);
                if (msg.type == SYNC_ERROR) {
                        berr_make_raw(err, msg.value, msg.text);
                        goto fail;
                }
        }
        if (o->pid_file) {
                char buf[16];
                int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
                if (write_file_atomic_at(AT_FDCWD, o->pid_file, buf, (size_t)n, 0644, err) < 0)
                        goto fail;
        }
        if (o->detach)
                return 0;
        return wait_foreground(pid, child_pidfd, master, exit_status, err);
fail:
        if (child_pidfd >= 0)
                kill_and_wait(child_pidfd, 5000);
        waitpid(pid, NULL, 0);
        return -1;
}
