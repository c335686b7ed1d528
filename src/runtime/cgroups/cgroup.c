/* SPDX-License-Identifier: Apache-2.0 */
/* The container's cgroup: create, enter, persist, update, freeze, kill, destroy. */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/log.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "cgroup-internal.h"

/* Nested cgroups a container may create below its own that destroy and
 * get_pids walk; deeper trees are refused rather than recursed into. */
#define CGROUP_MAX_DEPTH 64
#define CGROUP_MAX_PIDS  (1u << 22)

static void sleep_ms(long ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* ---- directories ---- */

static int open_beneath(int dirfd, const char *path)
{
        struct open_how how = {
            .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        int fd;

        if (!*path)
                path = ".";
        do
                fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        while (fd < 0 && errno == EAGAIN);
        return fd;
}

static int mount_open(struct cgroup *cg, struct cgroup_dir *d, struct berr **err)
{
        const struct cgroup_hier *h = &cg->host.h[d->hier];
        struct statfs sf;

        if (d->mount_fd >= 0)
                return 0;
        d->mount_fd = open(h->mount_point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d->mount_fd < 0)
                return berr_errno(err, "open %s", h->mount_point);
        if (cg->host.fake)
                return 0;
        if (fstatfs(d->mount_fd, &sf) < 0)
                return berr_errno(err, "statfs %s", h->mount_point);
        if (sf.f_type != (h->v2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC)) {
                d->mount_fd = safe_close(d->mount_fd);
                return berr_make(err, 0, "%s: not a %s filesystem", h->mount_point,
                                 h->v2 ? "cgroup2" : "cgroup");
        }
        return 0;
}

int cgroup_dir_open(struct cgroup *cg, struct cgroup_dir *d, struct berr **err)
{
        if (d->fd >= 0)
                return 0;
        if (mount_open(cg, d, err) < 0)
                return -1;
        d->fd = open_beneath(d->mount_fd, d->path);
        if (d->fd < 0)
                return berr_errno(err, "open cgroup %s", d->full);
        return 0;
}

struct cgroup_dir *cgroup_dir_v2(struct cgroup *cg)
{
        for (size_t i = 0; i < cg->n_dirs; i++)
                if (cg->host.h[cg->dirs[i].hier].v2)
                        return &cg->dirs[i];
        return NULL;
}

struct cgroup_dir *cgroup_dir_for(struct cgroup *cg, const char *controller)
{
        struct cgroup_dir *v2;

        for (size_t i = 0; i < cg->n_dirs; i++) {
                const struct cgroup_hier *h = &cg->host.h[cg->dirs[i].hier];
                if (!h->v2 && strv_contains(h->controllers, controller))
                        return &cg->dirs[i];
        }
        v2 = cgroup_dir_v2(cg);
        if (!v2)
                return NULL;
        if (streq(controller, "devices") || streq(controller, "freezer"))
                return v2;
        if (streq(controller, "blkio"))
                controller = "io";
        return strv_contains(cg->host.h[v2->hier].controllers, controller) ? v2 : NULL;
}

static void dir_done(struct cgroup_dir *d)
{
        safe_close(d->fd);
        safe_close(d->mount_fd);
        free(d->path);
        free(d->full);
}

void cgroup_free(struct cgroup *cg)
{
        if (!cg)
                return;
        for (size_t i = 0; i < cg->n_dirs; i++)
                dir_done(&cg->dirs[i]);
        free(cg->dirs);
        cgroup_host_done(&cg->host);
        free(cg);
}

/* Takes ownership of the host layout; paths[i] is hierarchy i's cgroup. */
static int cgroup_new(struct cgroup_host *host, char **paths, struct cgroup **out, struct berr **err)
{
        struct cgroup *cg = calloc(1, sizeof(*cg));

        if (!cg) {
                cgroup_host_done(host);
                return berr_make(err, ENOMEM, "cgroup");
        }
        cg->host = *host;
        *host = (struct cgroup_host){};
        cg->dirs = calloc(cg->host.n, sizeof(*cg->dirs));
        if (!cg->dirs && cg->host.n > 0)
                goto oom;
        for (size_t i = 0; i < cg->host.n; i++) {
                struct cgroup_dir *d = &cg->dirs[cg->n_dirs++];
                *d = (struct cgroup_dir){.hier = i, .fd = -1, .mount_fd = -1};
                d->path = strdup(paths[i]);
                d->full = path_join(cg->host.h[i].mount_point, paths[i]);
                if (!d->path || !d->full)
                        goto oom;
        }
        *out = cg;
        return 0;
oom:
        cgroup_free(cg);
        return berr_make(err, ENOMEM, "cgroup");
}

/* ---- validation against the host ---- */

static const char *const checked_controllers[] = {
    "cpuset", "devices", "memory", "cpu", "pids", "blkio", "hugetlb", "net_cls", "net_prio", "rdma",
};

static const char *controller_key(const char *c)
{
        if (streq(c, "cpuset"))
                return "cpu.cpus/mems";
        if (streq(c, "blkio"))
                return "blockIO";
        if (streq(c, "hugetlb"))
                return "hugepageLimits";
        if (streq(c, "net_cls"))
                return "network.classID";
        if (streq(c, "net_prio"))
                return "network.priorities";
        return c;
}

static int check_v2_keys(const struct cgroup_resources *res, const struct cgroup_host *host, const char *path,
                         struct berr **err)
{
        bool mem_v2 = cgroup_host_find(host, "memory", false) < 0,
             cpu_v2 = cgroup_host_find(host, "cpu", false) < 0,
             io_v2 = cgroup_host_find(host, "blkio", false) < 0;

        if (mem_v2) {
                if (res->memory.has_swappiness)
                        return berr_make(err, 0, "%s.memory.swappiness: not supported on cgroup v2", path);
                if (res->memory.has_disable_oom_killer && res->memory.disable_oom_killer)
                        return berr_make(err, 0, "%s.memory.disableOOMKiller: not supported on cgroup v2",
                                         path);
                if (res->memory.has_use_hierarchy && !res->memory.use_hierarchy)
                        return berr_make(err, 0, "%s.memory.useHierarchy: cgroup v2 is always hierarchical",
                                         path);
                if (res->memory.has_swap && res->memory.has_limit) {
                        int64_t v2;
                        if (cgroup_swap_to_v2(res->memory.swap, res->memory.limit, &v2, err) < 0)
                                return berr_wrap(err, "%s", path);
                }
        }
        if (cpu_v2 && (res->cpu.has_rt_runtime || res->cpu.has_rt_period))
                return berr_make(err, 0,
                                 "%s.cpu.%s: realtime scheduling limits are not supported on cgroup v2", path,
                                 res->cpu.has_rt_runtime ? "realtimeRuntime" : "realtimePeriod");
        if (io_v2) {
                if (res->blkio.has_leaf_weight)
                        return berr_make(err, 0, "%s.blockIO.leafWeight: not supported on cgroup v2", path);
                for (size_t i = 0; i < res->blkio.n_weight_devices; i++)
                        if (res->blkio.weight_devices[i].has_leaf_weight)
                                return berr_make(
                                    err, 0,
                                    "%s.blockIO.weightDevice[%zu].leafWeight: not supported on cgroup v2",
                                    path, i);
        }
        return 0;
}

static int check_unified(const struct cgroup_resources *res, const struct cgroup_host *host, const char *path,
                         struct berr **err)
{
        ssize_t v2 = cgroup_host_v2(host);

        if (!res->unified || !res->unified[0])
                return 0;
        if (v2 < 0)
                return berr_make(
                    err, 0,
                    "%s.unified: cgroup v2 settings need a cgroup2 hierarchy; this host has cgroup v1 only",
                    path);
        for (char **k = res->unified; *k; k += 2) {
                _cleanup_free_ char *ctrl = strndup(*k, strcspn(*k, "."));

                if (!ctrl)
                        return berr_make(err, ENOMEM, "unified");
                if (streq(ctrl, "cgroup") || strv_contains(host->h[v2].controllers, ctrl))
                        continue;
                if (cgroup_host_find(host, streq(ctrl, "io") ? "blkio" : ctrl, false) >= 0)
                        return berr_make(
                            err, 0,
                            "%s.unified.%s: the %s controller is bound to cgroup v1 on this host, "
                            "not to the cgroup2 hierarchy at %s",
                            path, *k, ctrl, host->h[v2].mount_point);
                return berr_make(
                    err, 0,
                    "%s.unified.%s: the %s controller is not available in the cgroup2 hierarchy at %s", path,
                    *k, ctrl, host->h[v2].mount_point);
        }
        return 0;
}

int cgroup_resources_check(const struct cgroup_resources *res, const struct cgroup_host *host,
                           const char *path, struct berr **err)
{
        ssize_t v2 = cgroup_host_v2(host);

        for (size_t i = 0; i < ARRAY_SIZE(checked_controllers); i++) {
                const char *c = checked_controllers[i], *c2 = streq(c, "blkio") ? "io" : c;

                if (!cgroup_resources_uses(res, c) || cgroup_host_find(host, c, false) >= 0)
                        continue;
                if (v2 >= 0 && (streq(c, "devices") || strv_contains(host->h[v2].controllers, c2)))
                        continue;
                if (v2 >= 0 && (streq(c, "net_cls") || streq(c, "net_prio")))
                        return berr_make(
                            err, 0, "%s.%s: the %s controller is not mounted and cgroup v2 has no equivalent",
                            path, controller_key(c), c);
                if (v2 >= 0)
                        return berr_make(
                            err, 0,
                            "%s.%s: the %s controller is not available on this host (not mounted as "
                            "cgroup v1, not enabled in the cgroup2 hierarchy at %s)",
                            path, controller_key(c), c, host->h[v2].mount_point);
                return berr_make(err, 0, "%s.%s: the %s controller is not mounted on this host", path,
                                 controller_key(c), c);
        }
        if (check_v2_keys(res, host, path, err) < 0 || check_unified(res, host, path, err) < 0)
                return -1;
        return 0;
}

/* ---- creation ---- */

/* Controllers to enable on the v2 tree: all it has on a pure v2 host (like
 * runc, so statistics work), on a hybrid one only those the resources need. */
static int v2_controllers(const struct cgroup *cg, const struct cgroup_resources *res, char ***wanted,
                          char ***required)
{
        const struct cgroup_hier *h = NULL;

        for (size_t i = 0; i < cg->host.n; i++)
                if (cg->host.h[i].v2)
                        h = &cg->host.h[i];
        if (!h)
                return 0;
        STRV_FOREACH (c, h->controllers) {
                const char *v1name = streq(*c, "io") ? "blkio" : *c;
                bool need =
                    cgroup_host_find(&cg->host, v1name, false) < 0 && cgroup_resources_uses(res, v1name);

                for (char **k = res->unified; !need && k && *k; k += 2)
                        need = strneq(*k, *c, strlen(*c)) && (*k)[strlen(*c)] == '.';
                if (need && strv_extend(required, *c) < 0)
                        return -ENOMEM;
                if ((need || cg->host.mode == CGROUP_MODE_V2) && strv_extend(wanted, *c) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int enable_controllers_at(int fd, const char *dirpath, char **wanted, char **required,
                                 struct berr **err)
{
        _cleanup_free_ char *cur = NULL, *all = NULL;
        _cleanup_strv_free_ char **missing = NULL;
        size_t len = 0;

        if (cg_read(fd, dirpath, "cgroup.subtree_control", &cur, err) < 0)
                return -1;
        STRV_FOREACH (c, wanted) {
                bool on = false;
                for (char *t = cur; t && *t;) {
                        size_t n = strcspn(t, " \n");
                        if (n == strlen(*c) && strneq(t, *c, n))
                                on = true;
                        t += n;
                        t += strspn(t, " \n");
                }
                if (!on && strv_extend(&missing, *c) < 0)
                        return berr_make(err, ENOMEM, "subtree_control");
        }
        if (!missing)
                return 0;
        STRV_FOREACH (c, missing)
                len += strlen(*c) + 2;
        all = calloc(1, len + 1);
        if (!all)
                return berr_make(err, ENOMEM, "subtree_control");
        STRV_FOREACH (c, missing) {
                if (*all)
                        strcat(all, " ");
                strcat(all, "+");
                strcat(all, *c);
        }
        if (cg_write(fd, dirpath, "cgroup.subtree_control", all, NULL) == 0)
                return 0;
        /* One at a time so that one the kernel refuses does not block the rest. */
        STRV_FOREACH (c, missing) {
                _cleanup_berr_ struct berr *e = NULL;
                if (cg_writef(fd, dirpath, "cgroup.subtree_control", &e, "+%s", *c) < 0 &&
                    strv_contains(required, *c)) {
                        berr_move(err, &e);
                        return berr_wrap(err, "enable the %s controller", *c);
                }
        }
        return 0;
}

/* Enables the controllers in every ancestor of d, from the mount point down. */
static int v2_enable_path(struct cgroup *cg, struct cgroup_dir *d, char **wanted, char **required,
                          struct berr **err)
{
        if (!wanted)
                return 0;
        if (mount_open(cg, d, err) < 0)
                return -1;
        for (size_t end = 0;;) {
                _cleanup_free_ char *anc = strndup(d->path, end), *full = NULL;
                _cleanup_close_ int fd = -1;
                const char *slash;

                if (!anc || !(full = path_join(cg->host.h[d->hier].mount_point, anc)))
                        return berr_make(err, ENOMEM, "cgroup");
                fd = open_beneath(d->mount_fd, anc);
                if (fd < 0)
                        return berr_errno(err, "open cgroup %s", full);
                if (enable_controllers_at(fd, full, wanted, required, err) < 0)
                        return -1;
                slash = strchr(d->path + end + (end ? 1 : 0), '/');
                if (!slash)
                        return 0;
                end = (size_t)(slash - d->path);
        }
}

/* cpuset.cpus/mems of a new v1 cpuset cgroup start empty, and a cgroup
 * without them refuses tasks: copy the parent's, from the top down. */
static int v1_cpuset_fill(struct cgroup *cg, struct cgroup_dir *d, struct berr **err)
{
        _cleanup_close_ int parent = -1;
        _cleanup_free_ char *full = NULL;

        if (mount_open(cg, d, err) < 0)
                return -1;
        parent = fcntl(d->mount_fd, F_DUPFD_CLOEXEC, 3);
        full = strdup(cg->host.h[d->hier].mount_point);
        if (parent < 0 || !full)
                return berr_errno(err, "cpuset");
        for (const char *p = d->path; *p;) {
                size_t n = strcspn(p, "/");
                _cleanup_free_ char *name = strndup(p, n), *child_full = NULL;
                _cleanup_close_ int child = -1;

                if (!name)
                        return berr_make(err, ENOMEM, "cpuset");
                child = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                child_full = path_join(full, name);
                if (!child_full)
                        return berr_make(err, ENOMEM, "cpuset");
                if (child < 0)
                        return berr_errno(err, "open cgroup %s", child_full);
                for (int i = 0; i < 2; i++) {
                        const char *file = i ? "cpuset.mems" : "cpuset.cpus";
                        _cleanup_free_ char *mine = NULL, *theirs = NULL;

                        if (cg_read(child, child_full, file, &mine, err) < 0)
                                return -1;
                        if (mine[strspn(mine, " \n")] != '\0')
                                continue;
                        if (cg_read(parent, full, file, &theirs, err) < 0)
                                return -1;
                        theirs[strcspn(theirs, "\n")] = '\0';
                        if (*theirs && cg_write(child, child_full, file, theirs, err) < 0)
                                return -1;
                }
                closep(&parent);
                parent = TAKE_FD(child);
                free(full);
                full = TAKE_PTR(child_full);
                p += n;
                p += strspn(p, "/");
        }
        return 0;
}

static int dir_mkdir(struct cgroup *cg, struct cgroup_dir *d, struct berr **err)
{
        _cleanup_close_ int cur = -1;
        size_t depth = 0, first_created = SIZE_MAX;

        if (mount_open(cg, d, err) < 0)
                return -1;
        cur = fcntl(d->mount_fd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return berr_errno(err, "dup");
        for (const char *p = d->path; *p; depth++) {
                size_t n = strcspn(p, "/");
                _cleanup_free_ char *name = strndup(p, n);
                int next;

                if (!name)
                        return berr_make(err, ENOMEM, "cgroup");
                if (mkdirat(cur, name, 0755) == 0) {
                        if (first_created == SIZE_MAX)
                                first_created = depth;
                } else if (errno != EEXIST)
                        return berr_errno(err, "mkdir cgroup %s (at `%s`)", d->full, name);
                next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return berr_errno(err, "open cgroup %s (at `%s`)", d->full, name);
                closep(&cur);
                cur = next;
                p += n;
                p += strspn(p, "/");
                d->n_created = first_created == SIZE_MAX ? 0 : depth + 1 - first_created;
        }
        d->fd = TAKE_FD(cur);
        return 0;
}

/* Removes the trailing n components of path below mount_fd (leaf first). */
static void remove_created(int mount_fd, const char *path, size_t n)
{
        _cleanup_free_ char *p = strdup(path);

        for (size_t i = 0; p && i < n; i++) {
                char *slash;
                if (unlinkat(mount_fd, p, AT_REMOVEDIR) < 0 && errno != ENOENT)
                        return;
                slash = strrchr(p, '/');
                if (!slash)
                        return;
                *slash = '\0';
        }
}

static void undo_create(struct cgroup *cg)
{
        for (size_t i = 0; i < cg->n_dirs; i++) {
                struct cgroup_dir *d = &cg->dirs[i];
                if (d->n_created > 0 && d->mount_fd >= 0) {
                        d->fd = safe_close(d->fd);
                        remove_created(d->mount_fd, d->path, d->n_created);
                }
        }
}

static int apply(struct cgroup *cg, const struct cgroup_resources *res, bool update, struct berr **err)
{
        _cleanup_strv_free_ char **wanted = NULL, **required = NULL;
        struct cgroup_dir *v2 = cgroup_dir_v2(cg);

        if (v2) {
                if (v2_controllers(cg, res, &wanted, &required) < 0)
                        return berr_make(err, ENOMEM, "cgroup");
                if (v2_enable_path(cg, v2, wanted, required, err) < 0)
                        return -1;
        }
        if (cg->host.mode != CGROUP_MODE_V2 && cgroup_v1_apply(cg, res, update, err) < 0)
                return -1;
        if (v2 && cgroup_v2_apply(cg, res, update, err) < 0)
                return -1;
        return 0;
}

static int systemd_driver(const struct cgroup_config *cfg, struct berr **err)
{
        _cleanup_free_ char *slice = NULL, *prefix = NULL, *name = NULL;

        if (!strempty(cfg->cgroups_path) &&
            cgroup_parse_systemd_path(cfg->cgroups_path, &slice, &prefix, &name, err) < 0)
                return -1;
        if (access("/run/systemd/system", F_OK) < 0)
                return berr_make(
                    err, 0,
                    "--systemd-cgroup: systemd is not running on this host (no /run/systemd/system); "
                    "use the cgroupfs driver (drop --systemd-cgroup)");
        return berr_make(
            err, ENOTSUP,
            "--systemd-cgroup: the systemd cgroup driver (transient scope units over D-Bus) is not "
            "implemented; use the cgroupfs driver");
}

int cgroup_create_on(struct cgroup_host *host, const struct cgroup_config *cfg, struct cgroup **out,
                     struct berr **err)
{
        _cleanup_(cgroup_resources_done) struct cgroup_resources res = {};
        _cleanup_strv_free_ char **paths = NULL;
        _cleanup_cgroup_ struct cgroup *cg = NULL;

        if (cgroup_resources_parse(cfg->resources, "linux.resources", &res, err) < 0 ||
            cgroup_resources_check(&res, host, "linux.resources", err) < 0 ||
            cgroup_resolve_paths(host, cfg->cgroups_path, cfg->id, &paths, err) < 0 ||
            cgroup_new(host, paths, &cg, err) < 0) {
                cgroup_host_done(host);
                return -1;
        }
        for (size_t i = 0; i < cg->n_dirs; i++) {
                struct cgroup_dir *d = &cg->dirs[i];
                if (dir_mkdir(cg, d, err) < 0)
                        goto fail;
                if (!cgroup_dir_is_v2(cg, d) && strv_contains(cg->host.h[d->hier].controllers, "cpuset") &&
                    v1_cpuset_fill(cg, d, err) < 0)
                        goto fail;
        }
        if (apply(cg, &res, false, err) < 0)
                goto fail;
        for (size_t i = 0; i < cg->n_dirs; i++)
                cg->dirs[i].n_created = 0;
        *out = TAKE_PTR(cg);
        return 0;
fail:
        undo_create(cg);
        return -1;
}

int cgroup_create(const struct cgroup_config *cfg, struct cgroup **out, struct berr **err)
{
        struct cgroup_host host;

        if (cfg->systemd)
                return systemd_driver(cfg, err);
        if (cgroup_host_detect(&host, err) < 0)
                return -1;
        return cgroup_create_on(&host, cfg, out, err);
}

int cgroup_open(const char *cgroups_path, const char *id, struct cgroup **out, struct berr **err)
{
        _cleanup_strv_free_ char **paths = NULL;
        struct cgroup_host host;

        if (cgroup_host_detect(&host, err) < 0)
                return -1;
        if (cgroup_resolve_paths(&host, cgroups_path, id, &paths, err) < 0) {
                cgroup_host_done(&host);
                return -1;
        }
        return cgroup_new(&host, paths, out, err);
}

int cgroup_update(struct cgroup *cg, json_object *resources, struct berr **err)
{
        _cleanup_(cgroup_resources_done) struct cgroup_resources res = {};

        if (cgroup_resources_parse(resources, "linux.resources", &res, err) < 0 ||
            cgroup_resources_check(&res, &cg->host, "linux.resources", err) < 0)
                return -1;
        return apply(cg, &res, true, err);
}

int cgroup_enter(struct cgroup *cg, pid_t pid, struct berr **err)
{
        for (size_t i = 0; i < cg->n_dirs; i++) {
                struct cgroup_dir *d = &cg->dirs[i];
                if (cgroup_dir_open(cg, d, err) < 0 ||
                    cg_writef(d->fd, d->full, "cgroup.procs", err, "%d", (int)pid) < 0)
                        return -1;
        }
        return 0;
}

int cgroup_open_dirs(struct cgroup *cg, struct berr **err)
{
        for (size_t i = 0; i < cg->n_dirs; i++)
                if (cgroup_dir_open(cg, &cg->dirs[i], err) < 0)
                        return -1;
        return 0;
}

int cgroup_enter_self(struct cgroup *cg, struct berr **err)
{
        for (size_t i = 0; i < cg->n_dirs; i++) {
                struct cgroup_dir *d = &cg->dirs[i];
                bool v2 = cg->host.h[d->hier].v2;
                if (cgroup_dir_open(cg, d, err) < 0 ||
                    cg_write(d->fd, d->full, v2 ? "cgroup.procs" : "tasks", "0", err) < 0)
                        return -1;
        }
        return 0;
}

int cgroup_clone_into_fd(struct cgroup *cg)
{
        struct cgroup_dir *d = cgroup_dir_v2(cg);

        if (cg->host.mode != CGROUP_MODE_V2 || !d || cgroup_dir_open(cg, d, NULL) < 0)
                return -1;
        return d->fd;
}

/* ---- persistence ---- */

json_object *cgroup_to_json(struct cgroup *cg)
{
        json_object *o = json_object_new_object(), *arr = json_object_new_array();

        if (!o || !arr) {
                json_object_put(o);
                json_object_put(arr);
                return NULL;
        }
        json_object_object_add(o, "mode", json_object_new_string(cgroup_mode_name(cg->host.mode)));
        for (size_t i = 0; i < cg->n_dirs; i++) {
                const struct cgroup_dir *d = &cg->dirs[i];
                const struct cgroup_hier *h = &cg->host.h[d->hier];
                json_object *e = json_object_new_object(), *ctrls = json_object_new_array();

                STRV_FOREACH (c, h->controllers)
                        json_object_array_add(ctrls, json_object_new_string(*c));
                json_object_object_add(e, "v2", json_object_new_boolean(h->v2));
                json_object_object_add(e, "mountPoint", json_object_new_string(h->mount_point));
                json_object_object_add(e, "mountRoot", json_object_new_string(h->mount_root));
                json_object_object_add(e, "controllers", ctrls);
                json_object_object_add(e, "path", json_object_new_string(d->path));
                json_object_array_add(arr, e);
        }
        json_object_object_add(o, "hierarchies", arr);
        return o;
}

static int load_hier(json_object *e, const char *p, struct cgroup_hier *h, char **path, struct berr **err)
{
        _cleanup_free_ char *clean = NULL;

        if (!json_object_is_type(e, json_type_object))
                return berr_make(err, 0, "%s: expected an object", p);
        if (json_get_bool(e, p, "v2", &h->v2, err) < 0 ||
            json_get_str(e, p, "mountPoint", true, &h->mount_point, err) < 0 ||
            json_get_str(e, p, "mountRoot", true, &h->mount_root, err) < 0 ||
            json_get_strv(e, p, "controllers", &h->controllers, err) < 0 ||
            json_get_str(e, p, "path", true, path, err) < 0)
                return -1;
        if (!path_is_absolute(h->mount_point) || path_has_dotdot(h->mount_point))
                return berr_make(err, 0, "%s.mountPoint: `%s` is not a clean absolute path", p,
                                 h->mount_point);
        if (path_is_absolute(*path) || path_has_dotdot(*path) || !**path)
                return berr_make(err, 0, "%s.path: `%s` is not a clean relative path", p, *path);
        return 0;
}

int cgroup_from_json_fake(json_object *o, bool fake, struct cgroup **out, struct berr **err)
{
        _cleanup_strv_free_ char **paths = NULL;
        _cleanup_free_ char *mode = NULL;
        struct cgroup_host host = {.fake = fake};
        json_object *arr;
        size_t n;
        int m;

        if (!o || !json_object_is_type(o, json_type_object))
                return berr_make(err, 0, "cgroup state: expected an object");
        if (json_get_str(o, "cgroup", "mode", true, &mode, err) < 0 ||
            json_get(o, "cgroup", "hierarchies", json_type_array, true, &arr, err) < 0)
                return -1;
        m = cgroup_mode_from_name(mode);
        if (m < 0)
                return berr_make(err, 0, "cgroup.mode: unknown mode `%s`", mode);
        host.mode = m;
        n = json_object_array_length(arr);
        if (n == 0 || n > 64)
                return berr_make(err, 0, "cgroup.hierarchies: %zu entries", n);
        host.h = calloc(n, sizeof(*host.h));
        paths = calloc(n + 1, sizeof(char *));
        if (!host.h || !paths) {
                free(host.h);
                return berr_make(err, ENOMEM, "cgroup state");
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = json_path_idx("cgroup.hierarchies", i);
                host.n++;
                if (load_hier(json_object_array_get_idx(arr, i), p ? p : "cgroup.hierarchies", &host.h[i],
                              &paths[i], err) < 0) {
                        cgroup_host_done(&host);
                        return -1;
                }
        }
        return cgroup_new(&host, paths, out, err);
}

int cgroup_from_json(json_object *o, struct cgroup **out, struct berr **err)
{
        return cgroup_from_json_fake(o, false, out, err);
}

/* ---- processes ---- */

/* The directory whose cgroup.procs lists the container's processes. */
static struct cgroup_dir *procs_dir(struct cgroup *cg)
{
        struct cgroup_dir *d = cgroup_dir_v2(cg);

        if (!d)
                d = cgroup_dir_for(cg, "freezer");
        if (!d)
                d = cgroup_dir_for(cg, "pids");
        if (!d && cg->n_dirs > 0)
                d = &cg->dirs[0];
        return d;
}

struct pid_list {
        pid_t *v;
        size_t n, cap;
};

static int push_pid(struct pid_list *l, pid_t pid, struct berr **err)
{
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 64;
                pid_t *nv;

                if (l->n >= CGROUP_MAX_PIDS)
                        return berr_make(err, E2BIG, "more than %u processes in the cgroup", CGROUP_MAX_PIDS);
                nv = realloc(l->v, cap * sizeof(pid_t));
                if (!nv)
                        return berr_make(err, ENOMEM, "pids");
                l->v = nv;
                l->cap = cap;
        }
        l->v[l->n++] = pid;
        return 0;
}

static int collect_pids(int fd, const char *full, int depth, struct pid_list *l, struct berr **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        int dfd;

        if (depth > CGROUP_MAX_DEPTH)
                return berr_make(err, ELOOP, "%s: cgroups nested deeper than %d", full, CGROUP_MAX_DEPTH);
        if (cg_read(fd, full, "cgroup.procs", &text, err) < 0)
                return -1;
        for (char *p = text; *p;) {
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (v > 0 && push_pid(l, (pid_t)v, err) < 0)
                        return -1;
                p = end + strspn(end, "\n");
        }
        dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0 || !(dir = fdopendir(dfd))) {
                safe_close(dfd);
                return berr_errno(err, "read cgroup %s", full);
        }
        while ((de = readdir(dir))) {
                _cleanup_free_ char *sub = NULL;
                _cleanup_close_ int cfd = -1;

                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                cfd = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cfd < 0) {
                        if (errno == ENOENT)
                                continue;
                        return berr_errno(err, "open cgroup %s/%s", full, de->d_name);
                }
                sub = path_join(full, de->d_name);
                if (!sub)
                        return berr_make(err, ENOMEM, "pids");
                if (collect_pids(cfd, sub, depth + 1, l, err) < 0)
                        return -1;
        }
        return 0;
}

int cgroup_get_pids(struct cgroup *cg, pid_t **pids, size_t *n, struct berr **err)
{
        struct cgroup_dir *d = procs_dir(cg);
        struct pid_list l = {};

        *pids = NULL;
        *n = 0;
        if (!d)
                return 0;
        if (cgroup_dir_open(cg, d, err) < 0 || collect_pids(d->fd, d->full, 0, &l, err) < 0) {
                free(l.v);
                return -1;
        }
        *pids = l.v;
        *n = l.n;
        return 0;
}

/* ---- freezer ---- */

static int v1_freeze(struct cgroup_dir *d, struct berr **err)
{
        _cleanup_berr_ struct berr *e = NULL;

        /* FREEZING can stick while tasks fork; keep asking, thawing now and
         * then so new children get caught, as runc does. */
        for (int i = 0; i < 1000; i++) {
                char state[32];
                int r;

                if (i % 50 == 49) {
                        (void)cg_write(d->fd, d->full, "freezer.state", "THAWED", NULL);
                        sleep_ms(10);
                }
                if (cg_write(d->fd, d->full, "freezer.state", "FROZEN", &e) < 0)
                        goto fail;
                if (i % 25 == 24)
                        sleep_ms(1);
                r = read_line_at(d->fd, "freezer.state", state, sizeof(state));
                if (r < 0) {
                        errno = -r;
                        berr_errno(&e, "read %s/freezer.state", d->full);
                        goto fail;
                }
                if (streq(state, "FROZEN"))
                        return 0;
                if (!streq(state, "FREEZING")) {
                        berr_make(&e, 0, "%s/freezer.state: unexpected state `%s` while freezing", d->full,
                                  state);
                        goto fail;
                }
        }
        berr_make(&e, EBUSY, "%s: the cgroup stayed FREEZING", d->full);
fail:
        (void)cg_write(d->fd, d->full, "freezer.state", "THAWED", NULL);
        berr_move(err, &e);
        return -1;
}

static int v2_wait_frozen(struct cgroup_dir *d, bool frozen, struct berr **err)
{
        _cleanup_close_ int fd = openat(d->fd, "cgroup.events", O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return berr_errno(err, "open %s/cgroup.events", d->full);
        /* cgroup.events signals POLLPRI on change; the bound only guards against a
         * kernel that never settles (10 s, like crun's wait). */
        for (int i = 0; i < 100; i++) {
                struct pollfd pfd = {.fd = fd, .events = POLLPRI};
                char buf[512];
                ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
                uint64_t v;

                if (n < 0)
                        return berr_errno(err, "read %s/cgroup.events", d->full);
                buf[n] = '\0';
                if (!cg_text_key_u64(buf, "frozen", &v))
                        return berr_make(err, ENOTSUP, "%s/cgroup.events has no `frozen` key", d->full);
                if ((v != 0) == frozen)
                        return 0;
                if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
                        return berr_errno(err, "poll %s/cgroup.events", d->full);
        }
        return berr_make(err, ETIMEDOUT, "%s: the cgroup did not become %s", d->full,
                         frozen ? "frozen" : "thawed");
}

int cgroup_set_frozen(struct cgroup *cg, bool frozen, struct berr **err)
{
        struct cgroup_dir *d = cgroup_dir_for(cg, "freezer");

        if (!d)
                return berr_make(err, ENOTSUP, "the freezer controller is not available on this host");
        if (cgroup_dir_open(cg, d, err) < 0)
                return -1;
        if (!cgroup_dir_is_v2(cg, d))
                return frozen ? v1_freeze(d, err) : cg_write(d->fd, d->full, "freezer.state", "THAWED", err);
        if (cg_write(d->fd, d->full, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
                return -1;
        if (v2_wait_frozen(d, frozen, err) < 0) {
                if (frozen)
                        (void)cg_write(d->fd, d->full, "cgroup.freeze", "0", NULL);
                return -1;
        }
        return 0;
}

int cgroup_is_frozen(struct cgroup *cg, bool *out, struct berr **err)
{
        struct cgroup_dir *d = cgroup_dir_for(cg, "freezer");
        char state[32];
        int r;

        *out = false;
        if (!d)
                return 0;
        if (cgroup_dir_open(cg, d, err) < 0)
                return -1;
        r = read_line_at(d->fd, cgroup_dir_is_v2(cg, d) ? "cgroup.freeze" : "freezer.state", state,
                         sizeof(state));
        if (r < 0) {
                errno = -r;
                return berr_errno(err, "read the freezer state of %s", d->full);
        }
        *out = streq(state, "FROZEN") || streq(state, "1");
        return 0;
}

int cgroup_signal_all(struct cgroup *cg, int sig, struct berr **err)
{
        struct cgroup_dir *v2 = cgroup_dir_v2(cg);
        _cleanup_free_ pid_t *pids = NULL;
        bool can_freeze = cgroup_dir_for(cg, "freezer") != NULL, was_frozen = false;
        size_t n = 0;
        int r = 0;

        if (can_freeze && cgroup_is_frozen(cg, &was_frozen, err) < 0)
                return -1;
        if (sig == SIGKILL && v2) {
                if (cgroup_dir_open(cg, v2, err) < 0)
                        return -1;
                if (cg_exists(v2->fd, "cgroup.kill")) {
                        if (cg_write(v2->fd, v2->full, "cgroup.kill", "1", err) < 0)
                                return -1;
                        /* A v1 freezer (hybrid) holds killed tasks until thawed. */
                        return was_frozen ? cgroup_set_frozen(cg, false, err) : 0;
                }
        }
        /* Frozen, nothing can fork between reading the list and the kill. */
        if (can_freeze && !was_frozen && cgroup_set_frozen(cg, true, err) < 0)
                return -1;
        if (cgroup_get_pids(cg, &pids, &n, err) < 0)
                r = -1;
        for (size_t i = 0; r == 0 && i < n; i++)
                if (kill(pids[i], sig) < 0 && errno != ESRCH)
                        r = berr_errno(err, "kill process %d with signal %d", (int)pids[i], sig);
        /* Thaw what we froze; a paused container stays paused unless it was
         * killed, since killed tasks die only once they run. */
        if (can_freeze && (!was_frozen || sig == SIGKILL) &&
            cgroup_set_frozen(cg, false, r < 0 ? NULL : err) < 0)
                r = -1;
        return r;
}

/* ---- removal ---- */

static int rmdir_retry(int parent, const char *name, const char *full, struct berr **err)
{
        long delay = 1;

        /* The last processes of a killed container leave the cgroup
         * asynchronously; give them up to about 3 s. */
        for (int i = 0;; i++) {
                if (unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY || i >= 100)
                        return berr_errno(err, "remove cgroup %s", full);
                sleep_ms(delay);
                delay = MIN(delay * 2, 32);
        }
}

static int remove_tree(int parent, const char *name, const char *full, int depth, struct berr **err)
{
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        int fd;

        if (depth > CGROUP_MAX_DEPTH)
                return berr_make(err, ELOOP, "%s: cgroups nested deeper than %d", full, CGROUP_MAX_DEPTH);
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : berr_errno(err, "open cgroup %s", full);
        dir = fdopendir(fd);
        if (!dir) {
                safe_close(fd);
                return berr_errno(err, "read cgroup %s", full);
        }
        while ((de = readdir(dir))) {
                _cleanup_free_ char *sub = NULL;

                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                sub = path_join(full, de->d_name);
                if (!sub)
                        return berr_make(err, ENOMEM, "cgroup");
                if (remove_tree(dirfd(dir), de->d_name, sub, depth + 1, err) < 0)
                        return -1;
        }
        return rmdir_retry(parent, name, full, err);
}

int cgroup_destroy(struct cgroup *cg, struct berr **err)
{
        int r = 0;

        for (size_t i = 0; i < cg->n_dirs; i++) {
                struct cgroup_dir *d = &cg->dirs[i];
                _cleanup_free_ char *parent = NULL;
                _cleanup_close_ int pfd = -1;
                const char *slash = strrchr(d->path, '/');

                d->fd = safe_close(d->fd);
                if (mount_open(cg, d, r < 0 ? NULL : err) < 0) {
                        r = -1;
                        continue;
                }
                parent = slash ? strndup(d->path, (size_t)(slash - d->path)) : strdup("");
                if (!parent)
                        return berr_make(err, ENOMEM, "cgroup");
                pfd = open_beneath(d->mount_fd, parent);
                if (pfd < 0) {
                        if (errno != ENOENT)
                                r = berr_errno(r < 0 ? NULL : err, "open cgroup %s", d->full);
                        continue;
                }
                if (remove_tree(pfd, slash ? slash + 1 : d->path, d->full, 0, r < 0 ? NULL : err) < 0)
                        r = -1;
        }
        return r;
}

/* ---- features ---- */

json_object *cgroup_features(void)
{
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "v1", json_object_new_boolean(1));
        json_object_object_add(o, "v2", json_object_new_boolean(1));
        json_object_object_add(o, "systemd", json_object_new_boolean(0));
        json_object_object_add(o, "systemdUser", json_object_new_boolean(0));
        json_object_object_add(o, "rdma", json_object_new_boolean(1));
        return o;
}
