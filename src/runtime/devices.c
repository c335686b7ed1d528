/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/path.h"
#include "basic/strv.h"
#include "internal.h"

static const struct {
        const char *path;
        unsigned int major, minor;
} default_devices[] = {
        {"/dev/null", 1, 3},    {"/dev/zero", 1, 5},   {"/dev/full", 1, 7},
        {"/dev/random", 1, 8},  {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

static const struct {
        const char *target, *link;
} default_links[] = {
        {"/proc/self/fd", "/dev/fd"},     {"/proc/self/fd/0", "/dev/stdin"},
        {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
};

/* /dev is set up by us unless the config bind-mounts one from the host. */
static bool dev_is_bind_mounted(const struct oci_spec *s)
{
        for (size_t i = 0; i < s->n_mounts; i++) {
                const struct oci_mount *m = &s->mounts[i];
                if (!streq(m->destination, "/dev"))
                        continue;
                if ((m->type && streq(m->type, "bind")) || strv_contains(m->options, "bind") ||
                    strv_contains(m->options, "rbind"))
                        return true;
        }
        return false;
}

static int split_parent(int rootfd, const char *path, char **name, struct berr **err)
{
        _cleanup_free_ char *dir = strdup(path);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        int fd;

        if (!slash)
                return berr_make(err, EINVAL, "device path `%s`", path);
        *name = strdup(slash + 1);
        if (!*name)
                return berr_make(err, ENOMEM, "device");
        *(slash == dir ? slash + 1 : slash) = '\0';
        fd = mkdir_p_in_root(rootfd, dir, 0755, err);
        if (fd < 0)
                return fd;
        /* mkdir_p_in_root gives O_PATH; mknodat needs a real directory fd. */
        {
                int real = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                close(fd);
                if (real < 0)
                        return berr_errno(err, "open `%s`", dir);
                return real;
        }
}

/* In a user namespace mknod is not allowed: bind the host's node instead. */
static int bind_host_node(int dirfd, const char *name, const char *host_path, struct berr **err)
{
        _cleanup_close_ int tree = -1, target = -1;

        target = openat(dirfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (target < 0)
                return berr_errno(err, "create `%s`", name);
        tree = open_tree(AT_FDCWD, host_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (tree < 0)
                return berr_errno(err, "bind device `%s`", host_path);
        if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return berr_errno(err, "bind device `%s`", host_path);
        return 0;
}

static int make_node(int rootfd, const char *path, mode_t type, unsigned int major, unsigned int minor, mode_t mode,
                     uid_t uid, gid_t gid, bool userns, struct berr **err)
{
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int dirfd = split_parent(rootfd, path, &name, err);

        if (dirfd < 0)
                return -1;
        if (userns) {
                if (type == S_IFIFO) {
                        if (mkfifoat(dirfd, name, mode) < 0 && errno != EEXIST)
                                return berr_errno(err, "mkfifo `%s`", path);
                        return 0;
                }
                return bind_host_node(dirfd, name, path, err);
        }
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT && errno != EISDIR)
                return berr_errno(err, "replace `%s`", path);
        if (mknodat(dirfd, name, type | (mode & 07777), makedev(major, minor)) < 0)
                return berr_errno(err, "mknod `%s`", path);
        /* mknod is subject to the umask; the spec's mode is exact. */
        if (fchmodat(dirfd, name, mode & 07777, 0) < 0)
                return berr_errno(err, "chmod `%s`", path);
        if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return berr_errno(err, "chown `%s`", path);
        return 0;
}

int devices_setup(int rootfd, const struct oci_spec *s, bool userns, struct berr **err)
{
        bool own_dev = !dev_is_bind_mounted(s);

        if (own_dev) {
                _cleanup_close_ int devfd = -1;
                for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
                        if (make_node(rootfd, default_devices[i].path, S_IFCHR, default_devices[i].major,
                                      default_devices[i].minor, 0666, 0, 0, userns, err) < 0)
                                return -1;
                devfd = openat_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, 0);
                if (devfd < 0)
                        return berr_make(err, -devfd, "open /dev in the container");
                for (size_t i = 0; i < ARRAY_SIZE(default_links); i++)
                        if (symlinkat(default_links[i].target, devfd, default_links[i].link + 5) < 0 &&
                            errno != EEXIST)
                                return berr_errno(err, "symlink `%s`", default_links[i].link);
                if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", devfd, "core") < 0 &&
                    errno != EEXIST)
                        return berr_errno(err, "symlink /dev/core");
                /* /dev/ptmx must be the one of the container's devpts instance. */
                if (unlinkat(devfd, "ptmx", 0) < 0 && errno != ENOENT)
                        return berr_errno(err, "remove /dev/ptmx");
                if (symlinkat("pts/ptmx", devfd, "ptmx") < 0)
                        return berr_errno(err, "symlink /dev/ptmx");
        }
        for (size_t i = 0; i < s->linux_.n_devices; i++) {
                const struct oci_device *d = &s->linux_.devices[i];
                mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
                if (make_node(rootfd, d->path, type, (unsigned int)d->major, (unsigned int)d->minor,
                              d->has_mode ? d->mode : 0666, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0, userns,
                              err) < 0)
                        return berr_wrap(err, "linux.devices[%zu]", i);
        }
        return 0;
}
