/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Root filesystem and mounts. Every mount target is opened inside the
 * rootfs with openat2(RESOLVE_IN_ROOT) and mounts are attached to that fd
 * with the new mount API (fsopen/fsmount/open_tree/move_mount), so no path
 * is resolved twice and a symlink swapped in by the container cannot
 * redirect a mount outside its root (CVE-2021-30465).
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "internal.h"

enum opt_kind { OPT_ATTR, OPT_RATTR, OPT_PROP, OPT_SB_FLAG, OPT_BIND, OPT_RBIND, OPT_IGNORE, OPT_TMPCOPYUP, OPT_IDMAP };

static const struct mount_opt {
        const char *name;
        enum opt_kind kind;
        bool clear;
        uint64_t value;
} mount_opts[] = {
        {"ro", OPT_ATTR, false, MOUNT_ATTR_RDONLY},
        {"rw", OPT_ATTR, true, MOUNT_ATTR_RDONLY},
        {"nosuid", OPT_ATTR, false, MOUNT_ATTR_NOSUID},
        {"suid", OPT_ATTR, true, MOUNT_ATTR_NOSUID},
        {"nodev", OPT_ATTR, false, MOUNT_ATTR_NODEV},
        {"dev", OPT_ATTR, true, MOUNT_ATTR_NODEV},
        {"noexec", OPT_ATTR, false, MOUNT_ATTR_NOEXEC},
        {"exec", OPT_ATTR, true, MOUNT_ATTR_NOEXEC},
        {"noatime", OPT_ATTR, false, MOUNT_ATTR_NOATIME},
        {"atime", OPT_ATTR, true, MOUNT_ATTR_NOATIME},
        {"strictatime", OPT_ATTR, false, MOUNT_ATTR_STRICTATIME},
        {"nostrictatime", OPT_ATTR, true, MOUNT_ATTR_STRICTATIME},
        {"relatime", OPT_ATTR, false, MOUNT_ATTR_RELATIME},
        {"norelatime", OPT_ATTR, true, MOUNT_ATTR_RELATIME},
        {"nodiratime", OPT_ATTR, false, MOUNT_ATTR_NODIRATIME},
        {"diratime", OPT_ATTR, true, MOUNT_ATTR_NODIRATIME},
        {"nosymfollow", OPT_ATTR, false, MOUNT_ATTR_NOSYMFOLLOW},
        {"symfollow", OPT_ATTR, true, MOUNT_ATTR_NOSYMFOLLOW},
        {"rro", OPT_RATTR, false, MOUNT_ATTR_RDONLY},
        {"rrw", OPT_RATTR, true, MOUNT_ATTR_RDONLY},
        {"rnosuid", OPT_RATTR, false, MOUNT_ATTR_NOSUID},
        {"rsuid", OPT_RATTR, true, MOUNT_ATTR_NOSUID},
        {"rnodev", OPT_RATTR, false, MOUNT_ATTR_NODEV},
        {"rdev", OPT_RATTR, true, MOUNT_ATTR_NODEV},
        {"rnoexec", OPT_RATTR, false, MOUNT_ATTR_NOEXEC},
        {"rexec", OPT_RATTR, true, MOUNT_ATTR_NOEXEC},
        {"rnoatime", OPT_RATTR, false, MOUNT_ATTR_NOATIME},
        {"ratime", OPT_RATTR, true, MOUNT_ATTR_NOATIME},
        {"rstrictatime", OPT_RATTR, false, MOUNT_ATTR_STRICTATIME},
        {"rnostrictatime", OPT_RATTR, true, MOUNT_ATTR_STRICTATIME},
        {"rrelatime", OPT_RATTR, false, MOUNT_ATTR_RELATIME},
        {"rnorelatime", OPT_RATTR, true, MOUNT_ATTR_RELATIME},
        {"rnodiratime", OPT_RATTR, false, MOUNT_ATTR_NODIRATIME},
        {"rdiratime", OPT_RATTR, true, MOUNT_ATTR_NODIRATIME},
        {"rnosymfollow", OPT_RATTR, false, MOUNT_ATTR_NOSYMFOLLOW},
        {"rsymfollow", OPT_RATTR, true, MOUNT_ATTR_NOSYMFOLLOW},
        {"private", OPT_PROP, false, MS_PRIVATE},
        {"rprivate", OPT_PROP, true, MS_PRIVATE},
        {"shared", OPT_PROP, false, MS_SHARED},
        {"rshared", OPT_PROP, true, MS_SHARED},
        {"slave", OPT_PROP, false, MS_SLAVE},
        {"rslave", OPT_PROP, true, MS_SLAVE},
        {"unbindable", OPT_PROP, false, MS_UNBINDABLE},
        {"runbindable", OPT_PROP, true, MS_UNBINDABLE},
        {"sync", OPT_SB_FLAG, false, 0},
        {"dirsync", OPT_SB_FLAG, false, 0},
        {"mand", OPT_SB_FLAG, false, 0},
        {"lazytime", OPT_SB_FLAG, false, 0},
        {"silent", OPT_SB_FLAG, false, 0},
        {"async", OPT_IGNORE, false, 0},
        {"nomand", OPT_IGNORE, false, 0},
        {"nolazytime", OPT_IGNORE, false, 0},
        {"loud", OPT_IGNORE, false, 0},
        {"defaults", OPT_IGNORE, false, 0},
        {"remount", OPT_IGNORE, false, 0},
        {"bind", OPT_BIND, false, 0},
        {"rbind", OPT_RBIND, false, 0},
        {"tmpcopyup", OPT_TMPCOPYUP, false, 0},
        {"idmap", OPT_IDMAP, false, 0},
        {"ridmap", OPT_IDMAP, true, 0},
};

const char *const *mount_option_names(void)
{
        static const char *names[ARRAY_SIZE(mount_opts) + 1];

        for (size_t i = 0; i < ARRAY_SIZE(mount_opts); i++)
                names[i] = mount_opts[i].name;
        return names;
}

struct mnt_opts {
        struct mount_attr attr;  /* top mount only */
        struct mount_attr rattr; /* whole tree */
        uint64_t propagation;
        bool prop_recursive;
        bool bind, rbind, tmpcopyup, idmap;
        char **sb_flags; /* borrowed */
        char **data;     /* borrowed */
        size_t n_sb, n_data;
};

static void attr_update(struct mount_attr *a, const struct mount_opt *o)
{
        bool atime = o->value == MOUNT_ATTR_NOATIME || o->value == MOUNT_ATTR_STRICTATIME ||
                     o->value == MOUNT_ATTR_RELATIME;

        if (atime) {
                /* The atime settings are one field: setting one replaces the others. */
                a->attr_clr |= MOUNT_ATTR__ATIME;
                a->attr_set &= ~(uint64_t)MOUNT_ATTR__ATIME;
                if (!o->clear)
                        a->attr_set |= o->value;
                return;
        }
        if (o->clear) {
                a->attr_set &= ~o->value;
                a->attr_clr |= o->value;
        } else {
                a->attr_set |= o->value;
                a->attr_clr &= ~o->value;
        }
}

static int parse_options(char **options, struct mnt_opts *mo, struct berr **err)
{
        size_t n = strv_length(options);

        memset(mo, 0, sizeof(*mo));
        mo->sb_flags = calloc(n + 1, sizeof(char *));
        mo->data = calloc(n + 1, sizeof(char *));
        if (!mo->sb_flags || !mo->data)
                return berr_make(err, ENOMEM, "mount options");
        STRV_FOREACH (opt, options) {
                const struct mount_opt *o = NULL;
                for (size_t i = 0; i < ARRAY_SIZE(mount_opts); i++)
                        if (streq(*opt, mount_opts[i].name)) {
                                o = &mount_opts[i];
                                break;
                        }
                if (!o) {
                        mo->data[mo->n_data++] = *opt;
                        continue;
                }
                switch (o->kind) {
                case OPT_ATTR:
                        attr_update(&mo->attr, o);
                        break;
                case OPT_RATTR:
                        attr_update(&mo->rattr, o);
                        break;
                case OPT_PROP:
                        mo->propagation = o->value;
                        mo->prop_recursive = o->clear;
                        break;
                case OPT_SB_FLAG:
                        mo->sb_flags[mo->n_sb++] = *opt;
                        break;
                case OPT_BIND:
                        mo->bind = true;
                        break;
                case OPT_RBIND:
                        mo->bind = mo->rbind = true;
                        break;
                case OPT_TMPCOPYUP:
                        mo->tmpcopyup = true;
                        break;
                case OPT_IDMAP:
                        mo->idmap = true;
                        break;
                case OPT_IGNORE:
                        break;
                }
        }
        return 0;
}

static void free_options(struct mnt_opts *mo)
{
        free(mo->sb_flags);
        free(mo->data);
}

/* The message a filesystem left in the fs context log, if any. */
static void fs_log_message(int fsfd, char *buf, size_t size)
{
        ssize_t n = read(fsfd, buf, size - 1);

        if (n <= 2) {
                buf[0] = '\0';
                return;
        }
        buf[n] = '\0';
        if (buf[n - 1] == '\n')
                buf[n - 1] = '\0';
        memmove(buf, buf + 2, (size_t)n - 1); /* drop the "e " severity prefix */
}

static int fs_error(int fsfd, struct berr **err, const char *what, const char *type, const char *dest)
{
        int saved = errno;
        char msg[256];

        fs_log_message(fsfd, msg, sizeof(msg));
        errno = saved;
        if (msg[0])
                return berr_make(err, saved, "mount %s on `%s`: %s (%s)", type, dest, what, msg);
        return berr_errno(err, "mount %s on `%s`: %s", type, dest, what);
}

static int attach(int mntfd, int target, const struct mnt_opts *mo, const char *dest, struct berr **err)
{
        if (move_mount(mntfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return berr_errno(err, "mount on `%s`", dest);
        if (mo->propagation) {
                struct mount_attr a = {.propagation = mo->propagation};
                if (mount_setattr(mntfd, "", AT_EMPTY_PATH | (mo->prop_recursive ? AT_RECURSIVE : 0), &a,
                                  sizeof(a)) < 0)
                        return berr_errno(err, "set propagation of `%s`", dest);
        }
        return 0;
}

static int set_attrs(int mntfd, const struct mnt_opts *mo, const char *dest, struct berr **err)
{
        if ((mo->attr.attr_set || mo->attr.attr_clr) &&
            mount_setattr(mntfd, "", AT_EMPTY_PATH, (struct mount_attr *)&mo->attr, sizeof(mo->attr)) < 0)
                return berr_errno(err, "set mount options of `%s`", dest);
        if ((mo->rattr.attr_set || mo->rattr.attr_clr) &&
            mount_setattr(mntfd, "", AT_EMPTY_PATH | AT_RECURSIVE, (struct mount_attr *)&mo->rattr,
                          sizeof(mo->rattr)) < 0)
                return berr_errno(err, "set recursive mount options of `%s`", dest);
        return 0;
}

static int mount_bind(int rootfd, const struct oci_mount *m, const char *bundle, const struct mnt_opts *mo,
                      struct berr **err)
{
        _cleanup_free_ char *src = path_is_absolute(m->source) ? strdup(m->source) : path_join(bundle, m->source);
        _cleanup_close_ int tree = -1, target = -1;
        struct stat st;

        if (!src)
                return berr_make(err, ENOMEM, "mount");
        tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (mo->rbind ? AT_RECURSIVE : 0));
        if (tree < 0) {
                if (errno == ENOENT)
                        return berr_make(err, ENOENT, "mount source `%s` for `%s` does not exist", src,
                                         m->destination);
                return berr_errno(err, "bind mount `%s` on `%s`", src, m->destination);
        }
        if (fstat(tree, &st) < 0)
                return berr_errno(err, "stat `%s`", src);
        target = mkmount_target_in_root(rootfd, m->destination, !S_ISDIR(st.st_mode), err);
        if (target < 0)
                return -1;
        if (set_attrs(tree, mo, m->destination, err) < 0)
                return -1;
        return attach(tree, target, mo, m->destination, err);
}

static int copy_tree(int from, int to, struct berr **err);

static int copy_entry(int from, int to, const char *name, const struct stat *st, struct berr **err)
{
        if (S_ISDIR(st->st_mode)) {
                _cleanup_close_ int sfd = -1, dfd = -1;
                if (mkdirat(to, name, st->st_mode & 07777) < 0 && errno != EEXIST)
                        return berr_errno(err, "tmpcopyup: mkdir `%s`", name);
                sfd = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                dfd = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sfd < 0 || dfd < 0)
                        return berr_errno(err, "tmpcopyup: open `%s`", name);
                if (copy_tree(sfd, dfd, err) < 0)
                        return -1;
                (void)fchown(dfd, st->st_uid, st->st_gid);
                (void)fchmod(dfd, st->st_mode & 07777);
        } else if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(from, name, target, sizeof(target) - 1);
                if (n < 0)
                        return berr_errno(err, "tmpcopyup: readlink `%s`", name);
                target[n] = '\0';
                if (symlinkat(target, to, name) < 0)
                        return berr_errno(err, "tmpcopyup: symlink `%s`", name);
                (void)fchownat(to, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
        } else if (S_ISREG(st->st_mode)) {
                _cleanup_close_ int sfd = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                _cleanup_close_ int dfd = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st->st_mode & 07777);
                off_t left = st->st_size;
                if (sfd < 0 || dfd < 0)
                        return berr_errno(err, "tmpcopyup: open `%s`", name);
                while (left > 0) {
                        /* copy_file_range refuses to cross filesystem types; sendfile does not. */
                        ssize_t n = sendfile(dfd, sfd, NULL, (size_t)MIN(left, 1 << 30));
                        if (n <= 0)
                                return berr_errno(err, "tmpcopyup: copy `%s`", name);
                        left -= n;
                }
                (void)fchown(dfd, st->st_uid, st->st_gid);
                (void)fchmod(dfd, st->st_mode & 07777);
        } else if (mknodat(to, name, st->st_mode, st->st_rdev) == 0) {
                (void)fchownat(to, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
        }
        return 0;
}

static int copy_tree(int from, int to, struct berr **err)
{
        int dfd = dup(from);
        _cleanup_closedir_ DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        struct dirent *de;

        if (!d) {
                safe_close(dfd);
                return berr_errno(err, "tmpcopyup: read directory");
        }
        while ((de = readdir(d))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(from, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return berr_errno(err, "tmpcopyup: stat `%s`", de->d_name);
                if (copy_entry(from, to, de->d_name, &st, err) < 0)
                        return -1;
        }
        return 0;
}

static int fs_configure(int fsfd, const struct oci_mount *m, const struct mnt_opts *mo, bool skip_gid,
                        struct berr **err)
{
        const char *type = m->type;

        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", m->source ? m->source : type, 0) < 0)
                return fs_error(fsfd, err, "source", type, m->destination);
        for (size_t i = 0; i < mo->n_sb; i++)
                if (fsconfig(fsfd, FSCONFIG_SET_FLAG, mo->sb_flags[i], NULL, 0) < 0)
                        return fs_error(fsfd, err, mo->sb_flags[i], type, m->destination);
        for (size_t i = 0; i < mo->n_data; i++) {
                _cleanup_free_ char *key = strdup(mo->data[i]);
                char *eq = key ? strchr(key, '=') : NULL;
                int r;
                if (!key)
                        return berr_make(err, ENOMEM, "mount");
                if (skip_gid && strneq(key, "gid=", 4))
                        continue;
                if (eq) {
                        *eq = '\0';
                        r = fsconfig(fsfd, FSCONFIG_SET_STRING, key, eq + 1, 0);
                } else {
                        r = fsconfig(fsfd, FSCONFIG_SET_FLAG, key, NULL, 0);
                }
                if (r < 0)
                        return fs_error(fsfd, err, mo->data[i], type, m->destination);
        }
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return fs_error(fsfd, err, "create", type, m->destination);
        return 0;
}

static int mount_fs(int rootfd, const struct oci_mount *m, const struct mnt_opts *mo, bool userns,
                    struct berr **err)
{
        _cleanup_close_ int fsfd = -1, mnt = -1, target = -1;
        uint64_t attrs = (mo->attr.attr_set | mo->rattr.attr_set) &
                         (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                          MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW);

        fsfd = fsopen(m->type, FSOPEN_CLOEXEC);
        if (fsfd < 0) {
                if (errno == ENODEV)
                        return berr_make(err, ENODEV, "mount `%s`: unknown filesystem type `%s`", m->destination,
                                         m->type);
                return berr_errno(err, "mount %s on `%s`", m->type, m->destination);
        }
        if (fs_configure(fsfd, m, mo, false, err) < 0) {
                /* Like runc: in a user namespace gid= of devpts may name an unmapped group. */
                if (!(userns && streq(m->type, "devpts")))
                        return -1;
                berr_freep(err);
                close(fsfd);
                fsfd = fsopen(m->type, FSOPEN_CLOEXEC);
                if (fsfd < 0 || fs_configure(fsfd, m, mo, true, err) < 0)
                        return fsfd < 0 ? berr_errno(err, "mount devpts") : -1;
        }
        mnt = fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned int)attrs);
        if (mnt < 0)
                return fs_error(fsfd, err, "fsmount", m->type, m->destination);
        target = mkmount_target_in_root(rootfd, m->destination, false, err);
        if (target < 0)
                return -1;
        if (mo->tmpcopyup) {
                _cleanup_close_ int src = openat(target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                _cleanup_close_ int dst = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (src < 0 || dst < 0)
                        return berr_errno(err, "tmpcopyup `%s`", m->destination);
                if (copy_tree(src, dst, err) < 0)
                        return berr_wrap(err, "`%s`", m->destination);
        }
        return attach(mnt, target, mo, m->destination, err);
}

static int mount_sysfs_fallback(int rootfd, const struct oci_mount *m, const struct mnt_opts *mo,
                                struct berr **err)
{
        struct oci_mount bind = *m;
        struct mnt_opts bmo = *mo;

        bind.source = (char *)"/sys";
        bmo.bind = bmo.rbind = true;
        bmo.rattr = bmo.attr;
        return mount_bind(rootfd, &bind, "/", &bmo, err);
}

static bool is_bind(const struct oci_mount *m, const struct mnt_opts *mo)
{
        return mo->bind || (m->type && streq(m->type, "bind"));
}

static int mount_one(struct init_ctx *c, int rootfd, const struct oci_mount *m, bool userns, struct berr **err)
{
        struct mnt_opts mo;
        int r;

        if (parse_options(m->options, &mo, err) < 0) {
                free_options(&mo);
                return -1;
        }
        if (mo.idmap || m->uid_mappings) {
                free_options(&mo);
                return berr_make(err, ENOTSUP, "mount `%s`: idmapped mounts are not supported", m->destination);
        }
        if (is_bind(m, &mo)) {
                if (!m->source) {
                        free_options(&mo);
                        return berr_make(err, EINVAL, "mount `%s`: a bind mount needs a source", m->destination);
                }
                r = mount_bind(rootfd, m, c->bundle, &mo, err);
        } else if (!m->type) {
                r = berr_make(err, EINVAL, "mount `%s`: type is required for non-bind mounts", m->destination);
        } else if (streq(m->type, "cgroup") || streq(m->type, "cgroup2")) {
                _cleanup_close_ int target = mkmount_target_in_root(rootfd, m->destination, false, err);
                uint64_t attrs = mo.attr.attr_set | mo.rattr.attr_set;
                r = target < 0 ? -1
                               : cgroup_mount(c->cg, target, attrs, oci_spec_ns(c->spec, OCI_NS_CGROUP) != NULL, err);
        } else {
                r = mount_fs(rootfd, m, &mo, userns, err);
                if (r < 0 && userns && streq(m->type, "sysfs") && *err && (*err)->code == EPERM) {
                        berr_freep(err);
                        r = mount_sysfs_fallback(rootfd, m, &mo, err);
                }
        }
        free_options(&mo);
        return r;
}

/* The mount point that holds path (longest matching mountinfo entry). */
static char *mountpoint_of(const char *path)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        char *line = NULL, *best = NULL;
        size_t cap = 0, best_len = 0;

        if (!f)
                return NULL;
        while (getline(&line, &cap, f) > 0) {
                char mp[4096];
                size_t l;
                if (sscanf(line, "%*d %*d %*s %*s %4095s", mp) != 1)
                        continue;
                l = strlen(mp);
                if (strncmp(path, mp, l) == 0 && (path[l] == '/' || path[l] == '\0' || l == 1) && l >= best_len) {
                        free(best);
                        best = strdup(mp);
                        best_len = l;
                }
        }
        free(line);
        return best;
}

static unsigned long propagation_flag(const char *name)
{
        static const struct {
                const char *name;
                unsigned long flag;
        } props[] = {
                {"shared", MS_SHARED},           {"slave", MS_SLAVE},
                {"private", MS_PRIVATE},         {"unbindable", MS_UNBINDABLE},
                {"rshared", MS_SHARED | MS_REC}, {"rslave", MS_SLAVE | MS_REC},
                {"rprivate", MS_PRIVATE | MS_REC}, {"runbindable", MS_UNBINDABLE | MS_REC},
        };

        for (size_t i = 0; name && i < ARRAY_SIZE(props); i++)
                if (streq(name, props[i].name))
                        return props[i].flag;
        return 0;
}

/* The host's /dev/null, checked to be the null device, opened in our own
 * mount namespace (open_tree clones only mounts of the caller's namespace). */
static int open_devnull(struct berr **err)
{
        int fd = open("/dev/null", O_PATH | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;

        if (fd < 0)
                return berr_errno(err, "open /dev/null");
        if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
                close(fd);
                return berr_make(err, EINVAL, "the host's /dev/null is not the null device");
        }
        return fd;
}

int rootfs_prepare(struct init_ctx *c, struct berr **err)
{
        const struct oci_spec *s = c->spec;
        unsigned long prop = propagation_flag(s->linux_.rootfs_propagation);
        bool userns = oci_spec_ns(s, OCI_NS_USER) != NULL;
        int rootfd;

        /* An unbindable root could be the source of neither the rootfs bind
         * nor the /dev/null clones of maskedPaths: it is applied to the new
         * root only, in rootfs_seal. */
        if (prop & MS_UNBINDABLE)
                prop = 0;
        /* Without a mount namespace of its own the container's mounts are made
         * in the runtime's (as with runc and crun): its / stays as it is. */
        if (oci_spec_ns(s, OCI_NS_MNT) && mount(NULL, "/", NULL, prop ? prop : MS_SLAVE | MS_REC, NULL) < 0)
                return berr_errno(err, "make / %s", prop ? s->linux_.rootfs_propagation : "rslave");
        if (prop & MS_SHARED) {
                /* pivot_root refuses a shared parent mount. */
                _cleanup_free_ char *parent = strdup(c->rootfs), *mp = NULL;
                char *slash = parent ? strrchr(parent, '/') : NULL;
                if (slash)
                        *(slash == parent ? slash + 1 : slash) = '\0';
                mp = parent ? mountpoint_of(parent) : NULL;
                if (mp && mount(NULL, mp, NULL, MS_PRIVATE, NULL) < 0)
                        return berr_errno(err, "make `%s` private", mp);
        }
        c->devnull_fd = open_devnull(err);
        if (c->devnull_fd < 0)
                return -1;
        if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return berr_errno(err, "bind mount rootfs `%s`", c->rootfs);
        rootfd = c->rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return berr_errno(err, "open rootfs `%s`", c->rootfs);

        for (size_t i = 0; i < s->n_mounts; i++)
                if (mount_one(c, rootfd, &s->mounts[i], userns, err) < 0)
                        return -1;
        if (devices_setup(rootfd, s, userns, err) < 0)
                return -1;
        if (s->has_process && s->process.cwd) {
                /* runc creates a missing cwd; failure is reported when the process starts. */
                int fd = mkdir_p_in_root(rootfd, s->process.cwd, 0755, NULL);
                safe_close(fd);
        }
        return 0;
}

int rootfs_pivot(struct init_ctx *c, struct berr **err)
{
        _cleanup_close_ int oldroot = -1, newroot = -1;

        /* In the runtime's mount namespace, pivot_root or moving the rootfs onto /
         * would change the host's root. */
        if (!oci_spec_ns(c->spec, OCI_NS_MNT)) {
                if (chdir(c->rootfs) < 0)
                        return berr_errno(err, "chdir `%s`", c->rootfs);
                if (chroot(".") < 0)
                        return berr_errno(err, "chroot `%s`", c->rootfs);
                if (chdir("/") < 0)
                        return berr_errno(err, "chdir /");
                return 0;
        }
        if (c->no_pivot) {
                if (chdir(c->rootfs) < 0)
                        return berr_errno(err, "chdir `%s`", c->rootfs);
                if (mount(c->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
                        return berr_errno(err, "move rootfs to /");
                if (chroot(".") < 0)
                        return berr_errno(err, "chroot");
                if (chdir("/") < 0)
                        return berr_errno(err, "chdir /");
                return 0;
        }
        oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        newroot = open(c->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (oldroot < 0 || newroot < 0)
                return berr_errno(err, "open root directories");
        if (fchdir(newroot) < 0)
                return berr_errno(err, "chdir `%s`", c->rootfs);
        /* pivot_root(".", ".") stacks the old root on top of the new one; detach it from there. */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return berr_errno(err, "pivot_root `%s`", c->rootfs);
        if (fchdir(oldroot) < 0)
                return berr_errno(err, "chdir old root");
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return berr_errno(err, "make old root rslave");
        if (umount2(".", MNT_DETACH) < 0)
                return berr_errno(err, "unmount old root");
        if (chdir("/") < 0)
                return berr_errno(err, "chdir /");
        return 0;
}

static int mask_path(int rootfd, int devnull, const char *path, struct berr **err)
{
        _cleanup_close_ int target = openat_in_root(rootfd, path, O_PATH, 0), mnt = -1;
        struct stat st;

        if (target == -ENOENT || target == -ENOTDIR)
                return 0;
        if (target < 0)
                return berr_make(err, -target, "mask `%s`", path);
        if (fstat(target, &st) < 0)
                return berr_errno(err, "mask `%s`", path);
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
                if (fsfd < 0 || fsconfig(fsfd, FSCONFIG_SET_STRING, "size", "0", 0) < 0 ||
                    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                        return berr_errno(err, "mask `%s`: tmpfs", path);
                mnt = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                                             MOUNT_ATTR_NOEXEC);
        } else {
                /* devnull was opened on the host and checked to be the null device: a
                 * rootfs cannot redirect this bind to anything else (CVE-2025-31133). */
                mnt = open_tree(devnull, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        }
        if (mnt < 0)
                return berr_errno(err, "mask `%s`", path);
        if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return berr_errno(err, "mask `%s`", path);
        return 0;
}

static int readonly_path(int rootfd, const char *path, struct berr **err)
{
        _cleanup_close_ int target = openat_in_root(rootfd, path, O_PATH, 0), mnt = -1;
        struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};

        if (target == -ENOENT || target == -ENOTDIR)
                return 0;
        if (target < 0)
                return berr_make(err, -target, "make `%s` read-only", path);
        mnt = open_tree(target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (mnt < 0 || mount_setattr(mnt, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0 ||
            move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return berr_errno(err, "make `%s` read-only", path);
        return 0;
}

/* Writes go through an fd checked to be procfs, never through a path a
 * rootfs could redirect (CVE-2025-52881). */
static int write_sysctls(int rootfd, char **sysctl, struct berr **err)
{
        _cleanup_close_ int procsys = -1;
        struct statfs sfs;

        if (!sysctl || !sysctl[0])
                return 0;
        procsys = openat_in_root(rootfd, "/proc/sys", O_PATH | O_DIRECTORY, 0);
        if (procsys < 0)
                return berr_make(err, -procsys, "sysctl: open /proc/sys in the container");
        if (fstatfs(procsys, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
                return berr_make(err, EACCES, "sysctl: /proc/sys in the container is not procfs");
        for (char **p = sysctl; p[0] && p[1]; p += 2) {
                _cleanup_free_ char *rel = strdup(p[0]);
                struct open_how how = {.flags = O_WRONLY | O_CLOEXEC | O_TRUNC,
                                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                                                  RESOLVE_NO_XDEV};
                _cleanup_close_ int fd = -1;
                int r;
                if (!rel)
                        return berr_make(err, ENOMEM, "sysctl");
                for (char *q = rel; *q; q++)
                        if (*q == '.')
                                *q = '/';
                fd = (int)syscall(SYS_openat2, procsys, rel, &how, sizeof(how));
                if (fd < 0)
                        return berr_errno(err, "sysctl `%s`", p[0]);
                r = write_all(fd, p[1], strlen(p[1]));
                if (r < 0)
                        return berr_make(err, -r, "sysctl `%s` = `%s`", p[0], p[1]);
        }
        return 0;
}

int rootfs_finalize(struct init_ctx *c, struct berr **err)
{
        const struct oci_spec *s = c->spec;

        /* Before pivot_root: the host's /dev/null can only be cloned while its
         * mount is still in our namespace. sysctls go first, /proc/sys may become read-only. */
        if (write_sysctls(c->rootfd, s->linux_.sysctl, err) < 0)
                return -1;
        STRV_FOREACH (p, s->linux_.masked_paths)
                if (mask_path(c->rootfd, c->devnull_fd, *p, err) < 0)
                        return -1;
        STRV_FOREACH (p, s->linux_.readonly_paths)
                if (readonly_path(c->rootfd, *p, err) < 0)
                        return -1;
        return 0;
}

int rootfs_seal(struct init_ctx *c, struct berr **err)
{
        const struct oci_spec *s = c->spec;
        unsigned long prop = propagation_flag(s->linux_.rootfs_propagation);

        if (prop && mount(NULL, "/", NULL, prop, NULL) < 0)
                return berr_errno(err, "set propagation of / to %s", s->linux_.rootfs_propagation);
        if (s->root_readonly) {
                struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
                if (mount_setattr(AT_FDCWD, "/", 0, &a, sizeof(a)) < 0)
                        return berr_errno(err, "make the root filesystem read-only");
        }
        return 0;
}

uint64_t mount_id_of(const char *path)
{
        struct statx stx;

        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_MNT_ID, &stx) < 0 ||
            !(stx.stx_mask & STATX_MNT_ID))
                return 0;
        return stx.stx_mnt_id;
}

void rootfs_detach_host_bind(const char *rootfs, uint64_t mnt_id)
{
        if (mnt_id == 0 || !rootfs || !*rootfs || mount_id_of(rootfs) != mnt_id)
                return;
        if (umount2(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                log_debug("detach the rootfs bind at `%s`: %s", rootfs, strerror(errno));
}
