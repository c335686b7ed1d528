/* SPDX-License-Identifier: Apache-2.0 */
/* Copy-up of an image directory into a new volume (volume_copy_tree). */
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "basic/fileio.h"
#include "basic/path.h"
#include "volume-internal.h"
#include "volume.h"

struct hardlink {
        dev_t dev;
        ino_t ino;
        char *path; /* of the first copy, relative to the destination root */
};

struct copy {
        int dst_root;
        void *links; /* tsearch tree of struct hardlink, by dev and inode */
        size_t entries;
};

static int copy_xattrs(int src, int dst, const char *path, struct berr **err)
{
        _cleanup_free_ char *names = NULL, *value = NULL;
        ssize_t len = flistxattr(src, NULL, 0);

        if (len < 0)
                return errno == ENOTSUP ? 0 : berr_errno(err, "`%s`: list xattrs", path);
        if (len == 0)
                return 0;
        len = MIN(len, (ssize_t)XATTR_LIST_MAX);
        names = malloc((size_t)len);
        value = malloc(XATTR_SIZE_MAX);
        if (!names || !value)
                return berr_make(err, ENOMEM, "`%s`: xattrs", path);
        len = flistxattr(src, names, (size_t)len);
        if (len < 0)
                return berr_errno(err, "`%s`: list xattrs", path);
        for (char *n = names; n < names + len; n += strlen(n) + 1) {
                ssize_t vlen = fgetxattr(src, n, value, XATTR_SIZE_MAX);
                if (vlen < 0) {
                        if (errno == ENODATA)
                                continue;
                        return berr_errno(err, "`%s`: read xattr %s", path, n);
                }
                if (fsetxattr(dst, n, value, (size_t)vlen, 0) < 0 && errno != ENOTSUP)
                        return berr_errno(err, "`%s`: set xattr %s", path, n);
        }
        return 0;
}

/* Owner before mode (chown clears set-id bits), xattrs after chown (it
 * drops security.capability), times last. */
static int copy_meta(int src, int dst, const struct stat *st, const char *path, struct berr **err)
{
        struct timespec times[2] = {st->st_atim, st->st_mtim};

        if (fchown(dst, st->st_uid, st->st_gid) < 0)
                return berr_errno(err, "`%s`: chown", path);
        if (fchmod(dst, st->st_mode & 07777) < 0)
                return berr_errno(err, "`%s`: chmod", path);
        if (copy_xattrs(src, dst, path, err) < 0)
                return -1;
        if (futimens(dst, times) < 0)
                return berr_errno(err, "`%s`: set times", path);
        return 0;
}

static int copy_data(int src, int dst, const char *path, struct berr **err)
{
        char buf[65536];
        ssize_t n;

        for (;;) {
                n = copy_file_range(src, NULL, dst, NULL, 1 << 30, 0);
                if (n == 0)
                        return 0;
                if (n < 0)
                        break;
        }
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
                return berr_errno(err, "`%s`: copy", path);
        while ((n = read(src, buf, sizeof(buf))) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return berr_errno(err, "`%s`: read", path);
                }
                int r = write_all(dst, buf, (size_t)n);
                if (r < 0)
                        return berr_make(err, -r, "`%s`: write", path);
        }
        return 0;
}

static int copy_file(int srcdir, int dstdir, const char *name, const struct stat *st, const char *path,
                     struct berr **err)
{
        /* O_NONBLOCK: a file swapped for a fifo since the stat must not hang us. */
        _cleanup_close_ int src =
            openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        _cleanup_close_ int dst = -1;
        struct stat now;

        if (src < 0)
                return berr_errno(err, "`%s`: open", path);
        if (fstat(src, &now) < 0)
                return berr_errno(err, "`%s`: stat", path);
        if (!S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev)
                return berr_make(err, EAGAIN, "`%s` changed while it was copied", path);
        dst = openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (dst < 0)
                return berr_errno(err, "`%s`: create", path);
        if (copy_data(src, dst, path, err) < 0)
                return -1;
        return copy_meta(src, dst, &now, path, err);
}

/* Symlinks, devices and fifos: no fd to copy through, metadata by name
 * (AT_SYMLINK_NOFOLLOW) or through an O_PATH fd of what was just made. */
static int copy_special(int srcdir, int dstdir, const char *name, const struct stat *st, const char *path,
                        struct berr **err)
{
        struct timespec times[2] = {st->st_atim, st->st_mtim};
        _cleanup_close_ int fd = -1;
        char proc[32];

        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(srcdir, name, target, sizeof(target));
                if (n < 0)
                        return berr_errno(err, "`%s`: readlink", path);
                if ((size_t)n >= sizeof(target))
                        return berr_make(err, ENAMETOOLONG, "`%s`: symlink target too long", path);
                target[n] = '\0';
                if (symlinkat(target, dstdir, name) < 0)
                        return berr_errno(err, "`%s`: symlink", path);
        } else if (mknodat(dstdir, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0) {
                return berr_errno(err, "`%s`: mknod", path);
        }
        fd = openat(dstdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berr_errno(err, "`%s`: open", path);
        if (fchownat(fd, "", st->st_uid, st->st_gid, AT_EMPTY_PATH) < 0)
                return berr_errno(err, "`%s`: chown", path);
        /* Modes of symlinks mean nothing; for the others chmod through the fd's proc link. */
        if (!S_ISLNK(st->st_mode) && fchmodat(AT_FDCWD, fd_path(fd, proc), st->st_mode & 07777, 0) < 0)
                return berr_errno(err, "`%s`: chmod", path);
        if (utimensat(dstdir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
                return berr_errno(err, "`%s`: set times", path);
        return 0;
}

static int hardlink_cmp(const void *a, const void *b)
{
        const struct hardlink *x = a, *y = b;

        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static const struct hardlink *hardlink_find(const struct copy *c, const struct stat *st)
{
        struct hardlink key = {st->st_dev, st->st_ino, NULL};
        void *found = tfind(&key, &c->links, hardlink_cmp);

        return found ? *(struct hardlink **)found : NULL;
}

static int hardlink_add(struct copy *c, const struct stat *st, const char *path, struct berr **err)
{
        struct hardlink *h = malloc(sizeof(*h));

        if (!h || !(h->path = strdup(path + 1))) {
                free(h);
                return berr_make(err, ENOMEM, "hard links");
        }
        h->dev = st->st_dev;
        h->ino = st->st_ino;
        if (!tsearch(h, &c->links, hardlink_cmp)) {
                free(h->path);
                free(h);
                return berr_make(err, ENOMEM, "hard links");
        }
        return 0;
}

static void hardlink_free(void *p)
{
        struct hardlink *h = p;

        free(h->path);
        free(h);
}

static int copy_dir(struct copy *c, int src, int dst, const char *path, unsigned depth, struct berr **err);

static int copy_entry(struct copy *c, int src, int dst, const char *name, const char *path, unsigned depth,
                      struct berr **err)
{
        const struct hardlink *link;
        struct stat st;
        int r;

        if (++c->entries > VOLUME_COPY_ENTRIES_MAX)
                return berr_make(err, E2BIG, "more than %d files to copy", VOLUME_COPY_ENTRIES_MAX);
        if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return berr_errno(err, "`%s`: stat", path);
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int s = -1, d = -1;
                if (depth >= VOLUME_COPY_DEPTH_MAX)
                        return berr_make(err, ELOOP, "`%s`: more than %d directory levels", path,
                                         VOLUME_COPY_DEPTH_MAX);
                if (mkdirat(dst, name, 0700) < 0)
                        return berr_errno(err, "`%s`: mkdir", path);
                s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (s < 0 || d < 0)
                        return berr_errno(err, "`%s`: open", path);
                if (copy_dir(c, s, d, path, depth + 1, err) < 0)
                        return -1;
                if (fstat(s, &st) < 0)
                        return berr_errno(err, "`%s`: stat", path);
                return copy_meta(s, d, &st, path, err);
        }
        if (S_ISSOCK(st.st_mode))
                return 0;
        if (st.st_nlink > 1 && (link = hardlink_find(c, &st))) {
                if (linkat(c->dst_root, link->path, dst, name, 0) < 0)
                        return berr_errno(err, "`%s`: link to `/%s`", path, link->path);
                return 0;
        }
        if (S_ISREG(st.st_mode))
                r = copy_file(src, dst, name, &st, path, err);
        else
                r = copy_special(src, dst, name, &st, path, err);
        if (r < 0)
                return r;
        return st.st_nlink > 1 ? hardlink_add(c, &st, path, err) : 0;
}

static int copy_dir(struct copy *c, int src, int dst, const char *path, unsigned depth, struct berr **err)
{
        _cleanup_closedir_ DIR *d = NULL;
        /* Not dup(): that would share the offset with the caller's fd. */
        int dfd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;

        if (dfd < 0 || !(d = fdopendir(dfd))) {
                safe_close(dfd);
                return berr_errno(err, "`%s/`: read directory", path);
        }
        errno = 0;
        while ((de = readdir(d))) {
                _cleanup_free_ char *child = NULL;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (asprintf(&child, "%s/%s", path, de->d_name) < 0)
                        return berr_make(err, ENOMEM, "copy");
                if (copy_entry(c, src, dst, de->d_name, child, depth, err) < 0)
                        return -1;
                errno = 0;
        }
        if (errno)
                return berr_errno(err, "`%s/`: read directory", path);
        return 0;
}

int volume_copy_tree(int src, int dst, struct berr **err)
{
        struct copy c = {.dst_root = dst};
        struct stat st;
        int r;

        r = copy_dir(&c, src, dst, "", 0, err);
        if (r >= 0) {
                if (fstat(src, &st) < 0)
                        r = berr_errno(err, "stat the source directory");
                else
                        r = copy_meta(src, dst, &st, "/", err);
        }
        tdestroy(c.links, hardlink_free);
        return r;
}
