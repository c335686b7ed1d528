/* SPDX-License-Identifier: Apache-2.0 */
/* Reading and writing cgroup control files. */
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "cgroup-internal.h"

int cg_write(int dirfd, const char *dirpath, const char *file, const char *value, struct berr **err)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
        size_t len = strlen(value);
        ssize_t n;

        if (fd < 0)
                return berr_errno(err, "open %s/%s", dirpath, file);
        /* One write(2): the kernel parses each write as a whole value. */
        do
                n = write(fd, value, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return berr_errno(err, "write `%s` to %s/%s", value, dirpath, file);
        if ((size_t)n != len)
                return berr_make(err, EIO, "write `%s` to %s/%s: short write", value, dirpath, file);
        return 0;
}

int cg_writef(int dirfd, const char *dirpath, const char *file, struct berr **err, const char *fmt, ...)
{
        _cleanup_free_ char *v = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&v, fmt, ap);
        va_end(ap);
        if (r < 0)
                return berr_make(err, ENOMEM, "%s/%s", dirpath, file);
        return cg_write(dirfd, dirpath, file, v, err);
}

int cg_read(int dirfd, const char *dirpath, const char *file, char **out, struct berr **err)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0)
                return berr_errno(err, "open %s/%s", dirpath, file);
        if (read_all_fd(fd, CGROUP_READ_MAX, out, NULL, err) < 0)
                return berr_wrap(err, "%s/%s", dirpath, file);
        return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
        char *end;

        while (*s == ' ' || *s == '\t')
                s++;
        if (strneq(s, "max", 3) && (s[3] == '\0' || s[3] == '\n' || s[3] == ' ')) {
                *out = UINT64_MAX;
                return 0;
        }
        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        *out = strtoull(s, &end, 10);
        if (errno)
                return -errno;
        if (*end != '\0' && *end != '\n' && *end != ' ')
                return -EINVAL;
        return 0;
}

int cg_read_u64(int dirfd, const char *dirpath, const char *file, uint64_t *out, struct berr **err)
{
        _cleanup_free_ char *text = NULL;

        if (cg_read(dirfd, dirpath, file, &text, err) < 0)
                return -1;
        if (parse_u64(text, out) < 0)
                return berr_make(err, 0, "%s/%s: `%.32s` is not a number", dirpath, file, text);
        return 0;
}

bool cg_text_key_u64(const char *text, const char *key, uint64_t *out)
{
        size_t kl = strlen(key);

        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
                if (strneq(l, key, kl) && l[kl] == ' ')
                        return parse_u64(l + kl + 1, out) == 0;
        return false;
}

int cg_read_key_u64(int dirfd, const char *dirpath, const char *file, const char *key, uint64_t *out,
                    struct berr **err)
{
        _cleanup_free_ char *text = NULL;

        if (cg_read(dirfd, dirpath, file, &text, err) < 0)
                return -1;
        return cg_text_key_u64(text, key, out) ? 1 : 0;
}

bool cg_exists(int dirfd, const char *file)
{
        struct stat st;

        return fstatat(dirfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0;
}
