/* SPDX-License-Identifier: Apache-2.0 */
/* start, kill, delete, list, ps. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/path.h"
#include "basic/socket.h"
#include "basic/strv.h"
#include "container.h"
#include "internal.h"
#include "sync.h"

static int run_hook_kind(struct container *c, enum oci_hook_kind kind, enum oci_status st, struct berr **err)
{
        json_object *state;
        int r;

        if (container_load_spec(c, err) < 0)
                return -1;
        if (c->spec->n_hooks[kind] == 0)
                return 0;
        state = container_state_json(c, st, false);
        r = hooks_run(c->spec, kind, state, err);
        json_object_put(state);
        return r;
}

int container_start(const struct runtime_ctx *ctx, const char *id, struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        _cleanup_free_ char *sock = NULL;
        _cleanup_close_ int conn = -1;
        struct sync_msg msg;
        enum oci_status st;
        int r;

        if (container_load(ctx, id, &c, err) < 0)
                return -1;
        st = container_status(c);
        if (st == OCI_STATUS_STOPPED)
                return berr_make(err, 0, "cannot start a container that has stopped");
        if (st != OCI_STATUS_CREATED)
                return berr_make(err, 0, "cannot start an already running container");
        {
                _cleanup_free_ char *dir = path_join(ctx->root, id);
                sock = dir ? path_join(dir, START_SOCKET) : NULL;
        }
        if (!sock)
                return berr_make(err, ENOMEM, "start");
        conn = unix_connect(sock, SOCK_SEQPACKET);
        if (conn < 0)
                return berr_make(err, -conn, "container `%s`: init is not waiting for start", id);
        /* One start only: later ones see the container running. */
        unlinkat(c->dirfd, START_SOCKET, 0);
        if (sync_send(conn, SYNC_START, 0, NULL) < 0)
                return berr_make(err, EPIPE, "container `%s`: init went away", id);
        r = sync_recv(conn, &msg, NULL);
        if (r < 0)
                return berr_make(err, -r, "container `%s`: start", id);
        if (r > 0 && msg.type == SYNC_ERROR)
                return berr_make_raw(err, msg.value, msg.text);
        /* poststart failures are warnings (runtime-spec). */
        (void)run_hook_kind(c, OCI_HOOK_POSTSTART, OCI_STATUS_RUNNING, NULL);
        return 0;
}

static int pidns_inode(pid_t pid, ino_t *ino)
{
        char path[64];
        struct stat st;

        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
        if (stat(path, &st) < 0)
                return -errno;
        *ino = st.st_ino;
        return 0;
}

/* Without a cgroup to ask, the container's processes are those in its pid namespace. */
static int pids_in_pidns(struct container *c, pid_t **out, size_t *n, struct berr **err)
{
        _cleanup_closedir_ DIR *d = opendir("/proc");
        struct dirent *de;
        ino_t want, ino;
        size_t cap = 0;

        *out = NULL;
        *n = 0;
        if (container_load_spec(c, err) < 0)
                return -1;
        if (!oci_spec_ns(c->spec, OCI_NS_PID) || oci_spec_ns(c->spec, OCI_NS_PID)->path)
                return berr_make(err, ENOTSUP, "container `%s` has no pid namespace of its own to list", c->id);
        if (pidns_inode(c->pid, &want) < 0)
                return 0;
        if (!d)
                return berr_errno(err, "open /proc");
        while ((de = readdir(d))) {
                pid_t pid = (pid_t)atoi(de->d_name);
                if (pid <= 0 || pidns_inode(pid, &ino) < 0 || ino != want)
                        continue;
                if (*n == cap) {
                        pid_t *np = realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof(pid_t));
                        if (!np)
                                return berr_make(err, ENOMEM, "ps");
                        *out = np;
                }
                (*out)[(*n)++] = pid;
        }
        return 0;
}

int container_pids(struct container *c, pid_t **pids, size_t *n, struct berr **err)
{
        struct berr *e = NULL;

        if (container_status(c) == OCI_STATUS_STOPPED) {
                *pids = NULL;
                *n = 0;
                return 0;
        }
        if (c->cg && cgroup_get_pids(c->cg, pids, n, &e) == 0)
                return 0;
        berr_free(e);
        return pids_in_pidns(c, pids, n, err);
}

int container_kill(const struct runtime_ctx *ctx, const char *id, int sig, bool all, struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        _cleanup_close_ int pidfd = -1;
        enum oci_status st;

        if (container_load(ctx, id, &c, err) < 0)
                return -1;
        st = container_status(c);
        if (st == OCI_STATUS_STOPPED)
                return berr_make(err, ESRCH, "container `%s` is not running", id);
        if (all) {
                _cleanup_free_ pid_t *pids = NULL;
                struct berr *e = NULL;
                size_t n = 0;
                if (c->cg && cgroup_signal_all(c->cg, sig, &e) == 0)
                        return 0;
                berr_free(e);
                if (pids_in_pidns(c, &pids, &n, err) < 0)
                        return -1;
                for (size_t i = 0; i < n; i++)
                        kill(pids[i], sig);
                return 0;
        }
        pidfd = pidfd_open_checked(c->pid, c->pid_start);
        if (pidfd < 0)
                return berr_make(err, ESRCH, "container `%s` is not running", id);
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                return berr_errno(err, "signal container `%s`", id);
        return 0;
}

int container_delete(const struct runtime_ctx *ctx, const char *id, bool force, struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        json_object *state;
        enum oci_status st;
        int r;

        r = container_load(ctx, id, &c, err);
        if (r < 0) {
                if (force && r == -ENOENT) {
                        berr_freep(err);
                        return 0;
                }
                return -1;
        }
        st = container_status(c);
        if ((st == OCI_STATUS_RUNNING || st == OCI_STATUS_PAUSED) && !force)
                return berr_make(err, 0, "cannot delete container `%s` that is not stopped: %s", id,
                                 oci_status_name(st));
        if (st != OCI_STATUS_STOPPED) {
                _cleanup_close_ int pidfd = pidfd_open_checked(c->pid, c->pid_start);
                if (c->cg)
                        (void)cgroup_signal_all(c->cg, SIGKILL, NULL);
                if (pidfd >= 0 && kill_and_wait(pidfd, 10000) < 0)
                        return berr_make(err, ETIMEDOUT, "container `%s`: init did not die after SIGKILL", id);
        }
        if (container_load_spec(c, NULL) < 0)
                log_debug("container `%s`: no config, poststop hooks skipped", id);
        state = container_state_json(c, OCI_STATUS_STOPPED, false);
        rootfs_detach_host_bind(c->rootfs, c->rootfs_mnt);
        r = container_destroy(ctx, id, c->spec, c->cg, state, err);
        json_object_put(state);
        return r;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int container_list_ids(const struct runtime_ctx *ctx, char ***ids, struct berr **err)
{
        _cleanup_closedir_ DIR *d = opendir(ctx->root);
        _cleanup_strv_free_ char **l = NULL;
        struct dirent *de;

        if (!d) {
                if (errno == ENOENT) {
                        *ids = calloc(1, sizeof(char *));
                        return *ids ? 0 : berr_make(err, ENOMEM, "list");
                }
                return berr_errno(err, "open state root `%s`", ctx->root);
        }
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
                        continue;
                if (oci_validate_id(de->d_name, NULL) < 0)
                        continue;
                if (strv_extend(&l, de->d_name) < 0)
                        return berr_make(err, ENOMEM, "list");
        }
        if (!l && !(l = calloc(1, sizeof(char *))))
                return berr_make(err, ENOMEM, "list");
        qsort(l, strv_length(l), sizeof(char *), cmp_str);
        *ids = TAKE_PTR(l);
        return 0;
}
