/* SPDX-License-Identifier: Apache-2.0 */
/* The container's /sys/fs/cgroup, mounted with the new mount API. */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "basic/path.h"
#include "basic/strv.h"
#include "cgroup-internal.h"

/* The kernel explains fsconfig failures on the fs context fd ("e msg"). */
static int fs_fail(int fsfd, const char *what, const char *where, struct berr **err)
{
        int saved = errno;
        char msg[256] = "";
        ssize_t n = fsfd >= 0 ? read(fsfd, msg, sizeof(msg) - 1) : -1;

        if (n > 2) {
                msg[n] = '\0';
                msg[strcspn(msg, "\n")] = '\0';
        } else
                msg[0] = '\0';
        errno = saved;
        return berr_errno(err, "mount %s on %s%s%s", what, where, *msg ? ": " : "", *msg ? msg + 2 : "");
}

/* A new superblock of type fstype (with controllers for cgroup v1) as a detached mount. */
static int new_fs(const char *fstype, char **controllers, unsigned long attrs, const char *where,
                  struct berr **err)
{
        _cleanup_close_ int fsfd = fsopen(fstype, FSOPEN_CLOEXEC);
        int mfd;

        if (fsfd < 0)
                return fs_fail(-1, fstype, where, err);
        STRV_FOREACH (c, controllers) {
                int r = strneq(*c, "name=", 5) ? fsconfig(fsfd, FSCONFIG_SET_STRING, "name", *c + 5, 0)
                                               : fsconfig(fsfd, FSCONFIG_SET_FLAG, *c, NULL, 0);
                if (r < 0)
                        return fs_fail(fsfd, fstype, where, err);
        }
        if (streq(fstype, "tmpfs") && fsconfig(fsfd, FSCONFIG_SET_STRING, "mode", "755", 0) < 0)
                return fs_fail(fsfd, fstype, where, err);
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return fs_fail(fsfd, fstype, where, err);
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned int)attrs);
        if (mfd < 0)
                return fs_fail(fsfd, fstype, where, err);
        return mfd;
}

/* A detached bind mount of the container's cgroup directory. */
static int bind_cgroup(struct cgroup_dir *d, unsigned long attrs, const char *where, struct berr **err)
{
        _cleanup_close_ int mfd = open_tree(AT_FDCWD, d->full, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        struct mount_attr attr = {.attr_set = attrs};

        if (mfd < 0)
                return berr_errno(err, "bind %s on %s", d->full, where);
        if (attrs && mount_setattr(mfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return berr_errno(err, "set the attributes of the %s bind mount", d->full);
        return TAKE_FD(mfd);
}

static int place(int mfd, int dirfd, const char *name, const char *where, struct berr **err)
{
        unsigned flags = MOVE_MOUNT_F_EMPTY_PATH | (*name ? 0 : MOVE_MOUNT_T_EMPTY_PATH);

        if (move_mount(mfd, "", dirfd, name, flags) < 0)
                return berr_errno(err, "attach the cgroup mount on %s", where);
        return 0;
}

static const char *base_name(const char *p)
{
        const char *s = strrchr(p, '/');

        return s ? s + 1 : p;
}

/* With a private cgroup namespace the kernel roots new cgroup mounts at the
 * container's cgroup; without one, bind the container's own directories. */
static int hierarchy_mount(struct cgroup *cg, struct cgroup_dir *d, unsigned long attrs, bool own_cgroupns,
                           const char *where, struct berr **err)
{
        const struct cgroup_hier *h = &cg->host.h[d->hier];

        if (!own_cgroupns)
                return bind_cgroup(d, attrs, where, err);
        return new_fs(h->v2 ? "cgroup2" : "cgroup", h->v2 ? NULL : h->controllers, attrs, where, err);
}

int cgroup_mount(struct cgroup *cg, int target_fd, unsigned long mount_attrs, bool own_cgroupns,
                 struct berr **err)
{
        _cleanup_close_ int tmpfs = -1;
        struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
        char where[32];

        fd_path(target_fd, where);
        if (cg->host.mode == CGROUP_MODE_V2) {
                _cleanup_close_ int mfd = -1;
                struct cgroup_dir *d = cgroup_dir_v2(cg);

                if (!d)
                        return berr_make(err, ENOENT, "no cgroup2 hierarchy to mount");
                mfd = hierarchy_mount(cg, d, mount_attrs, own_cgroupns, where, err);
                if (mfd < 0)
                        return -1;
                return place(mfd, target_fd, "", where, err);
        }

        /* v1 and hybrid: a tmpfs with one directory per hierarchy, named as on the host. */
        tmpfs = new_fs("tmpfs", NULL, mount_attrs & ~(unsigned long)MOUNT_ATTR_RDONLY, where, err);
        if (tmpfs < 0 || place(tmpfs, target_fd, "", where, err) < 0)
                return -1;
        for (size_t i = 0; i < cg->n_dirs; i++) {
                struct cgroup_dir *d = &cg->dirs[i];
                const struct cgroup_hier *h = &cg->host.h[d->hier];
                const char *name = base_name(h->mount_point);
                _cleanup_free_ char *sub = NULL;
                _cleanup_close_ int mfd = -1;

                if (!*name || streq(name, ".") || streq(name, ".."))
                        return berr_make(err, EINVAL, "%s: cannot name a cgroup mount after it",
                                         h->mount_point);
                if (asprintf(&sub, "%s/%s", where, name) < 0)
                        return berr_make(err, ENOMEM, "cgroup mount");
                if (mkdirat(tmpfs, name, 0755) < 0 && errno != EEXIST)
                        return berr_errno(err, "mkdir %s", sub);
                mfd = hierarchy_mount(cg, d, mount_attrs, own_cgroupns, sub, err);
                if (mfd < 0 || place(mfd, tmpfs, name, sub, err) < 0)
                        return -1;
                /* Co-mounted controllers get their own names as symlinks (cpu -> cpu,cpuacct). */
                if (!h->v2 && strv_length(h->controllers) > 1)
                        STRV_FOREACH (c, h->controllers) {
                                if (strneq(*c, "name=", 5) || streq(*c, name))
                                        continue;
                                if (symlinkat(name, tmpfs, *c) < 0 && errno != EEXIST)
                                        return berr_errno(err, "symlink %s/%s", where, *c);
                        }
        }
        if ((mount_attrs & MOUNT_ATTR_RDONLY) && mount_setattr(tmpfs, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
                return berr_errno(err, "make %s read-only", where);
        return 0;
}
