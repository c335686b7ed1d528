/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fileio.h"

int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

ssize_t read_full(int fd, void *buf, size_t len)
{
        char *p = buf;
        size_t got = 0;

        while (got < len) {
                ssize_t n = read(fd, p + got, len - got);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                got += (size_t)n;
        }
        return (ssize_t)got;
}

int read_all_fd(int fd, size_t max, char **out, size_t *len, struct berr **err)
{
        size_t cap = 4096, used = 0;
        _cleanup_free_ char *buf = NULL;
        struct stat st;

        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
                if ((size_t)st.st_size > max)
                        return berr_make(err, EFBIG, "file is %lld bytes, more than the limit of %zu",
                                         (long long)st.st_size, max);
                cap = (size_t)st.st_size + 1;
        }
        buf = malloc(cap + 1);
        if (!buf)
                return berr_make(err, ENOMEM, "read");
        for (;;) {
                ssize_t n;
                if (used == cap) {
                        char *nb;
                        if (cap >= max + 1)
                                return berr_make(err, EFBIG, "input is larger than the limit of %zu bytes",
                                                 max);
                        cap = MIN(cap * 2, max + 1);
                        nb = realloc(buf, cap + 1);
                        if (!nb)
                                return berr_make(err, ENOMEM, "read");
                        buf = nb;
                }
                n = read(fd, buf + used, cap - used);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return berr_errno(err, "read");
                }
                if (n == 0)
                        break;
                used += (size_t)n;
        }
        if (used > max)
                return berr_make(err, EFBIG, "input is larger than the limit of %zu bytes", max);
        buf[used] = '\0';
        if (len)
                *len = used;
        *out = TAKE_PTR(buf);
        return 0;
}

int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len, struct berr **err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        int r;

        if (fd < 0)
                return berr_errno(err, "open `%s`", path);
        r = read_all_fd(fd, max, out, len, err);
        if (r < 0)
                return berr_wrap(err, "`%s`", path);
        return 0;
}

int write_file_at(int dirfd, const char *path, const void *buf, size_t len, int flags, mode_t mode,
                  struct berr **err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | flags, mode);
        int r;

        if (fd < 0)
                return berr_errno(err, "open `%s`", path);
        r = write_all(fd, buf, len);
        if (r < 0)
                return berr_make(err, -r, "write `%s`", path);
        return 0;
}

int write_file_atomic_at(int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
                         struct berr **err)
{
        _cleanup_free_ char *tmp = NULL;
        int r;

        if (asprintf(&tmp, "%s.tmp%d", path, (int)getpid()) < 0)
                return berr_make(err, ENOMEM, "write `%s`", path);
        r = write_file_at(dirfd, tmp, buf, len, O_CREAT | O_TRUNC | O_EXCL, mode, err);
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                return r;
        }
        if (renameat(dirfd, tmp, dirfd, path) < 0) {
                r = berr_errno(err, "rename `%s` to `%s`", tmp, path);
                unlinkat(dirfd, tmp, 0);
                return r;
        }
        return 0;
}

int mkdir_p(const char *path, mode_t mode, struct berr **err)
{
        _cleanup_free_ char *p = strdup(path);
        char *s;

        if (!p)
                return berr_make(err, ENOMEM, "mkdir `%s`", path);
        for (s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return berr_errno(err, "mkdir `%s`", p);
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return berr_errno(err, "mkdir `%s`", p);
        return 0;
}

static int rm_rf_children(int dfd, dev_t dev, struct berr **err)
{
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        struct dirent *de;
        int ret = 0;

        if (!d) {
                close(dfd);
                return berr_errno(err, "opendir");
        }
        while ((de = readdir(d))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        ret = berr_errno(err, "stat `%s`", de->d_name);
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        int cfd;
                        if (st.st_dev != dev) {
                                ret = berr_make(err, EBUSY, "`%s` is a mount point", de->d_name);
                                continue;
                        }
                        cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (cfd < 0) {
                                ret = berr_errno(err, "open `%s`", de->d_name);
                                continue;
                        }
                        if (rm_rf_children(cfd, dev, err) < 0) {
                                ret = -1;
                                continue;
                        }
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                                ret = berr_errno(err, "rmdir `%s`", de->d_name);
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
                        ret = berr_errno(err, "unlink `%s`", de->d_name);
                }
        }
        return ret;
}

int rm_rf_at(int dirfd, const char *name, struct berr **err)
{
        struct stat st;
        int fd;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : berr_errno(err, "stat `%s`", name);
        if (!S_ISDIR(st.st_mode)) {
                if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                        return berr_errno(err, "unlink `%s`", name);
                return 0;
        }
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berr_errno(err, "open `%s`", name);
        if (rm_rf_children(fd, st.st_dev, err) < 0)
                return berr_wrap(err, "remove `%s`", name);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return berr_errno(err, "rmdir `%s`", name);
        return 0;
}

static int cmp_int(const void *a, const void *b)
{
        return *(const int *)a - *(const int *)b;
}

void close_fds_except(int min_fd, const int *keep, size_t n)
{
        int sorted[32];
        size_t m = 0;
        int from = min_fd;

        for (size_t i = 0; i < n && m < ARRAY_SIZE(sorted); i++)
                if (keep[i] >= min_fd)
                        sorted[m++] = keep[i];
        qsort(sorted, m, sizeof(int), cmp_int);
        for (size_t i = 0; i < m; i++) {
                if (sorted[i] > from)
                        syscall(SYS_close_range, (unsigned)from, (unsigned)sorted[i] - 1, 0);
                from = MAX(from, sorted[i] + 1);
        }
        syscall(SYS_close_range, (unsigned)from, ~0U, 0);
}

int read_line_at(int dirfd, const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read_full(fd, buf, size - 1);
        if (n < 0)
                return (int)n;
        buf[n] = '\0';
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                buf[--n] = '\0';
        return (int)n;
}
