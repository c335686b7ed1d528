/* SPDX-License-Identifier: Apache-2.0 */
/* create and run: the runtime's side of starting a container. */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/log.h"
#include "basic/path.h"
#include "basic/socket.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "container.h"
#include "internal.h"
#include "sync.h"

/* Everything create holds, released in one place whatever happened. */
struct creation {
        const struct runtime_ctx *ctx;
        const struct create_opts *o;
        struct oci_spec *spec;
        char *config_buf;
        size_t config_len;
        char *bundle;
        int statedir_fd;
        bool statedir_created;
        struct cgroup *cg;
        struct seccomp_prog *seccomp;
        int sync_fd;
        int pidfd;
        pid_t pid;
        uint64_t pid_start;
        int pty_master;
        struct init_ctx ic;
        int64_t created_ns;
        /* Without a mount namespace: the mount at the rootfs before the init
         * ran, and the init's bind of it (the container's mounts live below). */
        uint64_t host_rootfs_before, host_rootfs_mnt;
};

static int validate_sysctls(const struct oci_spec *s, struct berr **err)
{
        static const char *const ipc_keys[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                               "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                               "kernel.shmmni", "kernel.shm_rmid_forced"};

        for (char **p = s->linux_.sysctl; p && p[0] && p[1]; p += 2) {
                const char *k = p[0];
                bool ok = false;
                if (strchr(k, '/') || path_has_dotdot(k))
                        return berr_make(err, 0, "linux.sysctl: invalid key `%s`", k);
                for (size_t i = 0; i < ARRAY_SIZE(ipc_keys); i++)
                        if (streq(k, ipc_keys[i]))
                                ok = oci_spec_ns(s, OCI_NS_IPC) != NULL;
                if (strneq(k, "fs.mqueue.", 10))
                        ok = oci_spec_ns(s, OCI_NS_IPC) != NULL;
                else if (strneq(k, "net.", 4))
                        ok = oci_spec_ns(s, OCI_NS_NET) != NULL;
                else if (streq(k, "kernel.hostname") || streq(k, "kernel.domainname"))
                        ok = oci_spec_ns(s, OCI_NS_UTS) != NULL;
                if (!ok)
                        return berr_make(err, 0, "linux.sysctl: `%s` is not in a separate kernel namespace",
                                         k);
        }
        return 0;
}

static bool lsm_enabled(const char *path)
{
        char buf[8];

        return read_line_at(AT_FDCWD, path, buf, sizeof(buf)) > 0 && (buf[0] == 'Y' || buf[0] == '1');
}

static int validate(struct creation *cr, struct berr **err)
{
        const struct oci_spec *s = cr->spec;
        const struct create_opts *o = cr->o;
        bool detached = o->mode != CREATE_MODE_RUN;

        if (!s->has_process)
                return berr_make(err, 0, "config.json: process is required to start a container");
        if (!oci_spec_ns(s, OCI_NS_MNT)) {
                /* They would change the runtime's own mounts (runc refuses the paths too). */
                if (s->linux_.masked_paths && s->linux_.masked_paths[0])
                        return berr_make(err, 0, "linux.maskedPaths: needs a mount namespace");
                if (s->linux_.readonly_paths && s->linux_.readonly_paths[0])
                        return berr_make(err, 0, "linux.readonlyPaths: needs a mount namespace");
                if (s->linux_.rootfs_propagation && *s->linux_.rootfs_propagation)
                        return berr_make(err, 0, "linux.rootfsPropagation: needs a mount namespace");
        }
        if (s->process.terminal && detached && !o->console_socket)
                return berr_make(err, 0, "cannot allocate a tty when detaching without --console-socket");
        if (!s->process.terminal && o->console_socket)
                return berr_make(err, 0, "--console-socket given but process.terminal is false");
        if (s->process.apparmor_profile && *s->process.apparmor_profile &&
            !lsm_enabled("/sys/module/apparmor/parameters/enabled"))
                return berr_make(err, 0, "process.apparmorProfile: AppArmor is not enabled on this host");
        /* Without SELinux only the process label would confine; mountLabel
         * labels files for it and has nothing to do (as runc and crun). */
        if (s->process.selinux_label && *s->process.selinux_label &&
            access("/sys/fs/selinux/enforce", F_OK) < 0)
                return berr_make(err, 0, "process.selinuxLabel: SELinux is not enabled on this host");
        if (s->linux_.intel_rdt)
                return berr_make(err, ENOTSUP, "linux.intelRdt: Intel RDT is not supported");
        return validate_sysctls(s, err);
}

static int load_bundle(struct creation *cr, struct berr **err)
{
        const char *bundle = cr->o->bundle && *cr->o->bundle ? cr->o->bundle : ".";
        _cleanup_free_ char *cfg = NULL, *rootfs = NULL;
        char real[PATH_MAX];
        struct stat st;

        if (!realpath(bundle, real))
                return berr_errno(err, "bundle `%s`", bundle);
        cr->bundle = strdup(real);
        cfg = path_join(real, "config.json");
        if (!cr->bundle || !cfg)
                return berr_make(err, ENOMEM, "bundle");
        if (read_file_at(AT_FDCWD, cfg, OCI_CONFIG_MAX, &cr->config_buf, &cr->config_len, err) < 0)
                return -1;
        if (oci_spec_parse(cr->config_buf, cr->config_len, &cr->spec, err) < 0)
                return -1;
        rootfs = path_is_absolute(cr->spec->root_path) ? strdup(cr->spec->root_path)
                                                       : path_join(real, cr->spec->root_path);
        if (!rootfs)
                return berr_make(err, ENOMEM, "rootfs");
        if (!realpath(rootfs, real) || stat(real, &st) < 0)
                return berr_errno(err, "root.path: rootfs `%s`", rootfs);
        if (!S_ISDIR(st.st_mode))
                return berr_make(err, ENOTDIR, "root.path: rootfs `%s` is not a directory", rootfs);
        cr->ic.rootfs = strdup(real);
        return cr->ic.rootfs ? 0 : berr_make(err, ENOMEM, "rootfs");
}

static int make_statedir(struct creation *cr, struct berr **err)
{
        _cleanup_close_ int rootfd = -1;

        if (mkdir_p(cr->ctx->root, 0700, err) < 0)
                return -1;
        rootfd = open(cr->ctx->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return berr_errno(err, "open state root `%s`", cr->ctx->root);
        if (mkdirat(rootfd, cr->o->id, 0700) < 0) {
                if (errno == EEXIST)
                        return berr_make(err, EEXIST, "container with id exists: %s", cr->o->id);
                return berr_errno(err, "create state directory for `%s`", cr->o->id);
        }
        cr->statedir_created = true;
        cr->statedir_fd = openat(rootfd, cr->o->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cr->statedir_fd < 0)
                return berr_errno(err, "open state directory for `%s`", cr->o->id);
        return write_file_at(cr->statedir_fd, CONFIG_COPY, cr->config_buf, cr->config_len,
                             O_CREAT | O_EXCL | O_TRUNC, 0600, err);
}

/* systemd socket activation: fds passed to us are passed on, as runc does. */
static int listen_fds(void)
{
        const char *n = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");

        if (!n || !pid || atoi(pid) != getpid())
                return 0;
        return MAX(0, atoi(n));
}

static int prepare_init(struct creation *cr, struct berr **err)
{
        struct init_ctx *ic = &cr->ic;
        const struct oci_spec *s = cr->spec;
        int nlisten = listen_fds();

        ic->spec = s;
        ic->id = cr->o->id;
        ic->bundle = cr->bundle;
        ic->console_fd = -1;
        ic->pty_to_runtime = s->process.terminal && cr->o->mode == CREATE_MODE_RUN && !cr->o->console_socket;
        ic->no_pivot = cr->o->no_pivot;
        ic->no_new_keyring = cr->o->no_new_keyring;
        ic->seccomp = cr->seccomp;
        ic->cg = cr->cg;
        ic->extra_fds = nlisten + cr->o->preserve_fds;
        ic->need_hooks_sync = s->n_hooks[OCI_HOOK_PRESTART] || s->n_hooks[OCI_HOOK_CREATE_RUNTIME];
        ic->two_stage = s->linux_.has_time_offsets;
        for (int t = 0; t < OCI_NS_COUNT; t++)
                ic->ns_fds[t] = -1;
        for (size_t i = 0; i < s->linux_.n_namespaces; i++) {
                const struct oci_namespace *ns = &s->linux_.namespaces[i];
                if (!ns->path)
                        continue;
                ic->ns_fds[ns->type] = open(ns->path, O_RDONLY | O_CLOEXEC);
                if (ic->ns_fds[ns->type] < 0)
                        return berr_errno(err, "linux.namespaces[%zu].path: open `%s`", i, ns->path);
                ic->two_stage = true;
        }
        if (nlisten > 0) {
                char *e = NULL;
                if (asprintf(&e, "LISTEN_FDS=%d", nlisten) < 0 || strv_push(&ic->extra_env, e) < 0 ||
                    strv_extend(&ic->extra_env, "LISTEN_PID=1") < 0)
                        return berr_make(err, ENOMEM, "environment");
        }
        /* Bound here, not by the init: in a user namespace the init may not
         * write the state directory. */
        if (cr->o->mode == CREATE_MODE_CREATE) {
                ic->start_fd = unix_listen_at(cr->statedir_fd, START_SOCKET, SOCK_SEQPACKET, 1);
                if (ic->start_fd < 0)
                        return berr_make(err, -ic->start_fd, "create the start socket");
        }
        if (cr->o->console_socket) {
                ic->console_fd = unix_connect(cr->o->console_socket, SOCK_STREAM);
                if (ic->console_fd < 0)
                        return berr_make(err, -ic->console_fd, "connect to console socket `%s`",
                                         cr->o->console_socket);
        }
        return 0;
}

static json_object *state_for_hooks(struct creation *cr, enum oci_status st)
{
        struct oci_state s = {
            .id = cr->o->id,
            .status = st,
            .pid = cr->pid,
            .bundle = cr->bundle,
            .annotations = cr->spec->annotations,
        };

        return oci_state_to_json(&s, false);
}

static int run_hooks(struct creation *cr, enum oci_hook_kind kind, enum oci_status st, struct berr **err)
{
        json_object *state;
        int r;

        if (cr->spec->n_hooks[kind] == 0)
                return 0;
        state = state_for_hooks(cr, st);
        r = hooks_run(cr->spec, kind, state, err);
        json_object_put(state);
        return r;
}

static int write_oom_score_adj(struct creation *cr, struct berr **err)
{
        char path[64], buf[16];
        int n;

        if (!cr->spec->process.has_oom_score_adj)
                return 0;
        snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)cr->pid);
        n = snprintf(buf, sizeof(buf), "%d", cr->spec->process.oom_score_adj);
        if (write_file_at(AT_FDCWD, path, buf, (size_t)n, 0, 0, err) < 0)
                return berr_wrap(err, "process.oomScoreAdj");
        return 0;
}

/* Clones the init and brings it to the point where it waits for SYNC_GO. */
static int spawn_init(struct creation *cr, struct berr **err)
{
        const struct oci_spec *s = cr->spec;
        int sp[2], cgfd = cgroup_clone_into_fd(cr->cg);
        unsigned long flags = cr->ic.two_stage ? 0 : (unsigned long)(ns_flags_new(s) & ~CLONE_NEWCGROUP);
        struct sync_msg msg;
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return berr_errno(err, "socketpair");
        cr->sync_fd = sp[0];
        cr->ic.sync_fd = sp[1];
        /* Without a user namespace (whose ids must be mapped first) the init joins the
         * cgroup itself, which is ~10 ms faster on cgroup v1 (cgroup_enter_self). */
        cr->ic.cgroup_self_join = cgfd < 0 && !cr->ic.two_stage && !(flags & CLONE_NEWUSER);
        if (cr->ic.cgroup_self_join && cgroup_open_dirs(cr->cg, err) < 0) {
                close(sp[0]);
                close(sp[1]);
                cr->sync_fd = -1;
                return -1;
        }
        pid = clone_fork(flags, cgfd, &cr->pidfd);
        if (pid < 0) {
                close(sp[1]);
                return berr_errno(err, "clone container init");
        }
        if (pid == 0) {
                close(sp[0]);
                init_main(&cr->ic);
        }
        close(sp[1]);
        cr->pid = pid;
        if (cgfd < 0 && !cr->ic.cgroup_self_join && cgroup_enter(cr->cg, pid, err) < 0)
                return -1;
        if (!cr->ic.two_stage) {
                if ((flags & CLONE_NEWUSER) && userns_write_maps(pid, s, err) < 0)
                        return -1;
                return 0;
        }
        /* Two stages: the first joins and creates namespaces, the second is init. */
        for (;;) {
                int r = sync_recv(cr->sync_fd, &msg, NULL);
                if (r <= 0 || msg.type == SYNC_ERROR) {
                        waitpid(pid, NULL, 0);
                        cr->pid = 0;
                        if (r < 0)
                                return berr_make(err, -r, "sync with container init");
                        if (r == 0)
                                return berr_make(err, EPIPE, "container init exited unexpectedly");
                        return berr_make_raw(err, msg.value, msg.text);
                }
                if (msg.type == SYNC_USERNS) {
                        if (userns_write_maps(pid, s, err) < 0 ||
                            sync_send(cr->sync_fd, SYNC_USERNS_DONE, 0, NULL) < 0)
                                return -1;
                } else if (msg.type == SYNC_PID) {
                        waitpid(pid, NULL, 0);
                        safe_close(cr->pidfd);
                        cr->pid = msg.value;
                        cr->pidfd = (int)syscall(SYS_pidfd_open, cr->pid, 0);
                        if (cr->pidfd < 0)
                                return berr_errno(err, "pidfd of container init");
                        return 0;
                }
        }
}

static int drive_init(struct creation *cr, struct berr **err)
{
        struct sync_msg msg;
        char state;

        if (write_oom_score_adj(cr, err) < 0)
                return -1;
        if (sync_send(cr->sync_fd, SYNC_GO, cr->pid, NULL) < 0) {
                /* An init that failed early (joining its cgroup) has said why. */
                struct pollfd p = {cr->sync_fd, POLLIN, 0};
                if (poll(&p, 1, 0) > 0 && sync_recv(cr->sync_fd, &msg, NULL) > 0 && msg.type == SYNC_ERROR)
                        return berr_make_raw(err, msg.value, msg.text);
                return berr_make(err, EPIPE, "container init exited unexpectedly");
        }
        for (;;) {
                int passfd = -1;
                int r = sync_recv(cr->sync_fd, &msg, &passfd);
                if (r < 0)
                        return berr_make(err, -r, "sync with container init");
                if (r == 0)
                        return berr_make(err, EPIPE, "container init exited unexpectedly");
                switch (msg.type) {
                case SYNC_ERROR:
                        safe_close(passfd);
                        return berr_make_raw(err, msg.value, msg.text);
                case SYNC_HOOKS:
                        /* Status "created", as crun and runtime-tools' hooks_stdin
                         * expect (runc says "creating"). */
                        if (run_hooks(cr, OCI_HOOK_PRESTART, OCI_STATUS_CREATED, err) < 0 ||
                            run_hooks(cr, OCI_HOOK_CREATE_RUNTIME, OCI_STATUS_CREATED, err) < 0)
                                return -1;
                        if (sync_send(cr->sync_fd, SYNC_HOOKS_DONE, 0, NULL) < 0)
                                return berr_make(err, EPIPE, "container init exited unexpectedly");
                        break;
                case SYNC_SECCOMP_FD: {
                        json_object *st = state_for_hooks(cr, OCI_STATUS_CREATING);
                        safe_close(passfd);
                        r = seccomp_forward_to_listener(cr->seccomp, cr->pidfd, msg.value, cr->pid, st, err);
                        json_object_put(st);
                        if (r < 0 || sync_send(cr->sync_fd, SYNC_SECCOMP_DONE, 0, NULL) < 0)
                                return r < 0 ? -1
                                             : berr_make(err, EPIPE, "container init exited unexpectedly");
                        break;
                }
                case SYNC_PTY:
                        safe_close(cr->pty_master);
                        cr->pty_master = passfd;
                        break;
                case SYNC_READY:
                        safe_close(passfd);
                        if (proc_stat(cr->pid, &state, &cr->pid_start) < 0)
                                return berr_make(err, ESRCH, "container init exited unexpectedly");
                        return 0;
                default:
                        safe_close(passfd);
                        return berr_make(err, EBADMSG, "sync with container init: unexpected message %u",
                                         msg.type);
                }
        }
}

static int write_state(struct creation *cr, struct berr **err)
{
        json_object *o = json_object_new_object(), *ann = json_object_new_object();
        int r;

        json_object_object_add(o, "id", json_object_new_string(cr->o->id));
        json_object_object_add(o, "pid", json_object_new_int(cr->pid));
        json_object_object_add(o, "pidStart", json_object_new_uint64(cr->pid_start));
        json_object_object_add(o, "bundle", json_object_new_string(cr->bundle));
        json_object_object_add(o, "rootfs", json_object_new_string(cr->ic.rootfs));
        json_object_object_add(o, "created", json_object_new_int64(cr->created_ns));
        json_object_object_add(o, "owner", json_object_new_string(""));
        for (char **p = cr->spec->annotations; p && p[0] && p[1]; p += 2)
                json_object_object_add(ann, p[0], json_object_new_string(p[1]));
        json_object_object_add(o, "annotations", ann);
        json_object_object_add(o, "cgroup", cgroup_to_json(cr->cg));
        if (cr->host_rootfs_mnt)
                json_object_object_add(o, "rootfsMount", json_object_new_uint64(cr->host_rootfs_mnt));
        {
                const char *txt = json_to_string(o, false);
                r = write_file_atomic_at(cr->statedir_fd, STATE_FILE, txt, strlen(txt), 0600, err);
        }
        json_object_put(o);
        return r;
}

static int write_pid_file(const char *path, pid_t pid, struct berr **err)
{
        char buf[16];
        int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
        _cleanup_free_ char *abs = NULL;

        if (!path)
                return 0;
        if (!path_is_absolute(path)) {
                char cwd[PATH_MAX];
                if (!getcwd(cwd, sizeof(cwd)))
                        return berr_errno(err, "getcwd");
                abs = path_join(cwd, path);
                if (!abs)
                        return berr_make(err, ENOMEM, "pid file");
                path = abs;
        }
        return write_file_atomic_at(AT_FDCWD, path, buf, (size_t)n, 0644, err);
}

/* Waits for the init's execve: EOF on the sync socket, or its error. */
static int start_init(struct creation *cr, struct berr **err)
{
        struct sync_msg msg;
        int r;

        if (sync_send(cr->sync_fd, SYNC_START, 0, NULL) < 0)
                return berr_make(err, EPIPE, "container init exited unexpectedly");
        r = sync_recv(cr->sync_fd, &msg, NULL);
        if (r < 0)
                return berr_make(err, -r, "sync with container init");
        if (r > 0 && msg.type == SYNC_ERROR)
                return berr_make_raw(err, msg.value, msg.text);
        return 0;
}

static void creation_abort(struct creation *cr)
{
        if (cr->pidfd >= 0) {
                kill_and_wait(cr->pidfd, 5000);
                if (cr->pid > 0)
                        waitpid(cr->pid, NULL, WNOHANG);
        } else if (cr->pid > 0) {
                kill(cr->pid, SIGKILL);
                waitpid(cr->pid, NULL, 0);
        }
        if (cr->cg) {
                (void)cgroup_signal_all(cr->cg, SIGKILL, NULL);
                (void)cgroup_destroy(cr->cg, NULL);
        }
        /* A mount on the rootfs that appeared while the init ran is its bind. */
        if (cr->host_rootfs_before) {
                uint64_t now = mount_id_of(cr->ic.rootfs);
                if (now != cr->host_rootfs_before)
                        rootfs_detach_host_bind(cr->ic.rootfs, now);
        }
        if (cr->statedir_created) {
                _cleanup_close_ int rootfd = open(cr->ctx->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (rootfd >= 0)
                        (void)rm_rf_at(rootfd, cr->o->id, NULL);
        }
}

static void creation_free(struct creation *cr)
{
        oci_spec_free(cr->spec);
        free(cr->config_buf);
        free(cr->bundle);
        safe_close(cr->statedir_fd);
        cgroup_free(cr->cg);
        seccomp_prog_free(cr->seccomp);
        safe_close(cr->sync_fd);
        safe_close(cr->pidfd);
        safe_close(cr->pty_master);
        free(cr->ic.rootfs);
        safe_close(cr->ic.console_fd);
        safe_close(cr->ic.start_fd);
        safe_close(cr->ic.devnull_fd);
        for (int t = 0; t < OCI_NS_COUNT; t++)
                safe_close(cr->ic.ns_fds[t]);
        strv_free(cr->ic.extra_env);
}

/* Removes what a stopped container leaves: cgroup, poststop hooks, state. */
int container_destroy(const struct runtime_ctx *ctx, const char *id, struct oci_spec *spec, struct cgroup *cg,
                      json_object *state, struct berr **err)
{
        _cleanup_close_ int rootfd = open(ctx->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (cg) {
                (void)cgroup_signal_all(cg, SIGKILL, NULL);
                if (cgroup_destroy(cg, err) < 0)
                        return -1;
        }
        if (spec && state)
                (void)hooks_run(spec, OCI_HOOK_POSTSTOP, state, NULL);
        if (rootfd < 0)
                return berr_errno(err, "open state root `%s`", ctx->root);
        return rm_rf_at(rootfd, id, err);
}

int container_create(const struct runtime_ctx *ctx, const struct create_opts *o, int *exit_status,
                     struct berr **err)
{
        struct creation cr = {
            .ctx = ctx, .o = o, .statedir_fd = -1, .sync_fd = -1, .pidfd = -1, .pty_master = -1};
        struct cgroup_config cgc = {.id = o->id, .systemd = ctx->systemd_cgroup};
        int r = -1;

        cr.ic.console_fd = cr.ic.devnull_fd = cr.ic.rootfd = cr.ic.start_fd = -1;
        for (int t = 0; t < OCI_NS_COUNT; t++)
                cr.ic.ns_fds[t] = -1;
        cr.created_ns = time_now_ns();
        if (oci_validate_id(o->id, err) < 0 || load_bundle(&cr, err) < 0 || validate(&cr, err) < 0)
                goto out;
        cgc.cgroups_path = cr.spec->linux_.cgroups_path;
        cgc.resources = cr.spec->linux_.resources;
        if (cr.spec->linux_.seccomp) {
                _cleanup_close_ int cache_fd = -1;
                /* The cache lives in the root, which make_statedir creates anyway. */
                if (mkdir_p(ctx->root, 0700, err) < 0)
                        goto out;
                cache_fd = seccomp_cache_open(ctx->root);
                if (seccomp_prepare_cached(cr.spec->linux_.seccomp, cache_fd, &cr.seccomp, err) < 0)
                        goto out;
        }
        if (make_statedir(&cr, err) < 0)
                goto fail;
        if (cgroup_create(&cgc, &cr.cg, err) < 0)
                goto fail;
        if (prepare_init(&cr, err) < 0)
                goto fail;
        if (o->mode == CREATE_MODE_RUN)
                (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        if (!oci_spec_ns(cr.spec, OCI_NS_MNT))
                cr.host_rootfs_before = mount_id_of(cr.ic.rootfs);
        if (spawn_init(&cr, err) < 0 || drive_init(&cr, err) < 0)
                goto fail;
        if (cr.host_rootfs_before)
                cr.host_rootfs_mnt = mount_id_of(cr.ic.rootfs);
        if (write_state(&cr, err) < 0 || write_pid_file(o->pid_file, cr.pid, err) < 0)
                goto fail;
        if (o->mode == CREATE_MODE_CREATE) {
                r = 0;
                goto out;
        }
        if (start_init(&cr, err) < 0)
                goto fail;
        (void)run_hooks(&cr, OCI_HOOK_POSTSTART, OCI_STATUS_RUNNING, NULL);
        if (o->mode == CREATE_MODE_RUN_DETACHED) {
                r = 0;
                goto out;
        }
        r = wait_foreground(cr.pid, cr.pidfd, cr.pty_master, exit_status, err);
        if (r == 0 && !o->keep) {
                json_object *st = state_for_hooks(&cr, OCI_STATUS_STOPPED);
                rootfs_detach_host_bind(cr.ic.rootfs, cr.host_rootfs_mnt);
                r = container_destroy(ctx, o->id, cr.spec, cr.cg, st, err);
                json_object_put(st);
        }
        goto out;
fail:
        creation_abort(&cr);
out:
        creation_free(&cr);
        return r;
}
