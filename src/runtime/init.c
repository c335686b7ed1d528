/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container's init: the child the runtime cloned, from namespace entry
 * to execve of the container process. It never returns; errors go back to
 * the runtime as SYNC_ERROR messages.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
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

static json_object *hook_state(struct init_ctx *c, enum oci_status status)
{
        struct oci_state st = {
            .id = c->id,
            .status = status,
            .pid = c->host_pid,
            .bundle = c->bundle,
            .annotations = c->spec->annotations,
        };

        return oci_state_to_json(&st, false);
}

static int run_hooks_in_container(struct init_ctx *c, enum oci_hook_kind kind, enum oci_status status,
                                  struct berr **err)
{
        json_object *st;
        int r;

        if (c->spec->n_hooks[kind] == 0)
                return 0;
        st = hook_state(c, status);
        r = hooks_run(c->spec, kind, st, err);
        json_object_put(st);
        return r;
}

/* A new network namespace starts with loopback down; runc and crun bring it up. */
static int loopback_up(struct berr **err)
{
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr = {.ifr_name = "lo"};

        if (fd < 0)
                return berr_errno(err, "socket for loopback");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return berr_errno(err, "read flags of lo");
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return berr_errno(err, "bring lo up");
        return 0;
}

/* Two-stage entry: join namespaces by path, create the new ones in the
 * right order, then fork the process that becomes the container's init.
 * Returns in that process; the first stage exits. */
static int enter_namespaces_two_stage(struct init_ctx *c, struct berr **err)
{
        int flags = ns_flags_new(c->spec);
        struct sync_msg msg;
        pid_t pid;

        if (c->ns_fds[OCI_NS_USER] >= 0 && setns(c->ns_fds[OCI_NS_USER], CLONE_NEWUSER) < 0)
                return berr_errno(err, "join user namespace");
        for (int t = 0; t < OCI_NS_COUNT; t++) {
                if (t == OCI_NS_USER || c->ns_fds[t] < 0)
                        continue;
                if (setns(c->ns_fds[t], oci_ns_clone_flag(t)) < 0)
                        return berr_errno(err, "join %s namespace `%s`", oci_ns_name(t),
                                          oci_spec_ns(c->spec, t)->path);
        }
        if (flags & CLONE_NEWUSER) {
                if (unshare(CLONE_NEWUSER) < 0)
                        return berr_errno(err, "create user namespace");
                if (sync_send(c->sync_fd, SYNC_USERNS, 0, NULL) < 0 ||
                    sync_expect(c->sync_fd, SYNC_USERNS_DONE, &msg, err) < 0)
                        return -1;
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        return berr_errno(err, "become root in the user namespace");
        }
        if (unshare(flags & ~(CLONE_NEWUSER | CLONE_NEWCGROUP)) < 0)
                return berr_errno(err, "create namespaces");
        if ((flags & CLONE_NEWTIME) && timens_write_offsets(getpid(), c->spec, err) < 0)
                return -1;
        pid = fork();
        if (pid < 0)
                return berr_errno(err, "fork container init");
        if (pid > 0) {
                (void)sync_send(c->sync_fd, SYNC_PID, pid, NULL);
                _exit(0);
        }
        return 0;
}

static int join_keyring(struct init_ctx *c, struct berr **err)
{
        char name[64];

        if (c->no_new_keyring)
                return 0;
        snprintf(name, sizeof(name), "_ses.%.50s", c->id);
        if (syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, name, 0, 0, 0) < 0 && errno != ENOSYS &&
            errno != EDQUOT && errno != EACCES)
                return berr_errno(err, "join session keyring");
        return 0;
}

static int send_console(struct init_ctx *c, int master, struct berr **err)
{
        int r;

        if (c->console_fd >= 0) {
                r = socket_send_fds(c->console_fd, &master, 1, "/dev/ptmx", 9);
                if (r < 0)
                        return berr_make(err, -r, "send the pty master to the console socket");
                c->console_fd = safe_close(c->console_fd);
        } else if (c->pty_to_runtime) {
                r = sync_send_fd(c->sync_fd, SYNC_PTY, master);
                if (r < 0)
                        return berr_make(err, -r, "send the pty master to the runtime");
        }
        return 0;
}

/* Runs until the container process is exec'd; returns only on error. */
static int init_run(struct init_ctx *c, int *report_fd, struct berr **err)
{
        const struct oci_spec *s = c->spec;
        const struct oci_process *p = &s->process;
        bool userns = oci_spec_ns(s, OCI_NS_USER) != NULL;
        int flags_new = ns_flags_new(s);
        _cleanup_close_ int listen_fd = -1, conn = -1;
        struct sync_msg msg;

        /* Before anything else, and while the cgroup's directory fds are still open. */
        if (c->cgroup_self_join && cgroup_enter_self(c->cg, err) < 0)
                return berr_wrap(err, "join the container's cgroup");
        listen_fd = TAKE_FD(c->start_fd);
        process_reset_signals();
        /* Nothing of the runtime's but what the init needs may be reachable from the
         * container, not even while it waits for start (CVE-2024-21626, CVE-2016-9962). */
        {
                int keep[OCI_NS_COUNT + 3] = {c->sync_fd, c->console_fd, listen_fd};
                for (int t = 0; t < OCI_NS_COUNT; t++)
                        keep[3 + t] = c->ns_fds[t];
                close_fds_except(3 + c->extra_fds, keep, ARRAY_SIZE(keep));
                log_setup(-1, LOG_FORMAT_TEXT, LOG_LEVEL_ERROR);
        }
        if (c->two_stage && enter_namespaces_two_stage(c, err) < 0)
                return -1;
        for (int t = 0; t < OCI_NS_COUNT; t++)
                c->ns_fds[t] = safe_close(c->ns_fds[t]);
        if (sync_expect(c->sync_fd, SYNC_GO, &msg, err) < 0)
                return -1;
        c->host_pid = msg.value;
        if (!c->two_stage && userns && (flags_new & CLONE_NEWUSER)) {
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        return berr_errno(err, "become root in the user namespace");
        }
        /* After the cgroup join, so the namespace's root is the container's cgroup. */
        if ((flags_new & CLONE_NEWNET) && loopback_up(err) < 0)
                return -1;
        if ((flags_new & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
                return berr_errno(err, "create cgroup namespace");
        if (rootfs_prepare(c, err) < 0)
                return -1;
        if (c->need_hooks_sync && (sync_send(c->sync_fd, SYNC_HOOKS, 0, NULL) < 0 ||
                                   sync_expect(c->sync_fd, SYNC_HOOKS_DONE, &msg, err) < 0))
                return -1;
        if (run_hooks_in_container(c, OCI_HOOK_CREATE_CONTAINER, OCI_STATUS_CREATED, err) < 0)
                return -1;
        if (rootfs_finalize(c, err) < 0)
                return -1;
        c->rootfd = safe_close(c->rootfd);
        c->devnull_fd = safe_close(c->devnull_fd);
        if (rootfs_pivot(c, err) < 0)
                return -1;
        if (s->hostname && *s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
                return berr_errno(err, "sethostname `%s`", s->hostname);
        if (s->domainname && *s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
                return berr_errno(err, "setdomainname `%s`", s->domainname);
        if (p->terminal) {
                _cleanup_close_ int master = console_create(p, err);
                if (master < 0 || send_console(c, master, err) < 0)
                        return -1;
        }
        if (rootfs_seal(c, err) < 0 || join_keyring(c, err) < 0)
                return -1;
        if (s->linux_.has_personality && personality(s->linux_.personality) < 0)
                return berr_errno(err, "linux.personality");
        if (process_apply_limits(p, err) < 0)
                return -1;
        if (process_lookup(p, &c->exec_path, err) < 0)
                return -1;
        /* With a listener the filter is loaded while the runtime still
         * listens on the sync socket, to take the notify fd. */
        if (c->seccomp && seccomp_has_listener(c->seccomp)) {
                if (process_seccomp_listener(c->seccomp, c->sync_fd, err) < 0)
                        return -1;
                c->seccomp = NULL;
        }
        /* From here on no other container process may open our /proc/<pid>/exe,
         * which is the runtime binary until execve (CVE-2019-5736, CVE-2016-9962). */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return berr_errno(err, "set non-dumpable");
        if (sync_send(c->sync_fd, SYNC_READY, 0, NULL) < 0)
                return berr_make(err, EPIPE, "the runtime went away");
        if (listen_fd >= 0) {
                /* create: wait for `start`, which then hears our errors or EOF on exec. */
                do
                        conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
                while (conn < 0 && errno == EINTR);
                if (conn < 0)
                        return berr_errno(err, "wait for start");
                *report_fd = conn;
                if (sync_expect(conn, SYNC_START, &msg, err) < 0)
                        return -1;
                listen_fd = safe_close(listen_fd);
        } else if (sync_expect(c->sync_fd, SYNC_START, &msg, err) < 0) {
                return -1;
        }
        if (run_hooks_in_container(c, OCI_HOOK_START_CONTAINER, OCI_STATUS_CREATED, err) < 0)
                return -1;
        conn = -1; /* stays open (CLOEXEC) as the error channel until execve */
        return process_exec(p, c->exec_path, c->seccomp, userns, c->extra_fds, c->extra_env, err);
}

void init_main(struct init_ctx *c)
{
        struct berr *err = NULL;
        int report_fd = c->sync_fd;

        init_run(c, &report_fd, &err);
        if (!err)
                berr_make(&err, EIO, "container init failed");
        if (sync_send(report_fd, SYNC_ERROR, err->code, err->msg) < 0)
                log_error("%s", err->msg);
        _exit(err->code == ENOENT ? 127 : 1);
}
