/* SPDX-License-Identifier: Apache-2.0 */
/*
 * -u user[:group] resolved as docker resolves it (moby/sys/user's
 * GetExecUser): from the image's /etc/passwd and /etc/group, read inside the
 * rootfs so that neither symlinks nor ".." lead to the host's files.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/path.h"
#include "spec-internal.h"

/* Far larger than any real passwd/group file; the image controls these. */
#define ETC_FILE_MAX (16u << 20)
#define ID_MAX       2147483647

/* Reads an image file; *out is NULL when it does not exist. */
static int read_image_file(int rootfd, const char *path, char **out, struct berr **err)
{
        _cleanup_close_ int pfd = -1, fd = -1;
        char buf[32];
        struct stat st;

        *out = NULL;
        pfd = openat_in_root(rootfd, path, O_PATH, 0);
        if (pfd == -ENOENT)
                return 0;
        if (pfd < 0)
                return berr_make(err, -pfd, "open `%s` in the container's root", path);
        if (fstat(pfd, &st) < 0)
                return berr_errno(err, "stat `%s` in the container's root", path);
        /* A FIFO or device would block or have side effects when opened for reading. */
        if (!S_ISREG(st.st_mode))
                return eng_err(err, EINVAL, "`%s` in the container's root is not a regular file", path);
        fd = open(fd_path(pfd, buf), O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return berr_errno(err, "open `%s` in the container's root", path);
        if (read_all_fd(fd, ETC_FILE_MAX, out, NULL, err) < 0)
                return berr_wrap(err, "`%s` in the container's root", path);
        return 0;
}

/* Splits a line into at most n ':'-separated fields (missing ones are ""). */
static void split_fields(char *line, char **f, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                char *c;
                f[i] = line;
                if (!line) {
                        f[i] = (char *)"";
                        continue;
                }
                c = strchr(line, ':');
                if (c)
                        *c = '\0';
                line = c ? c + 1 : NULL;
        }
}

/* Trims a line in place; NULL for blank lines and comments. */
static char *next_line(char **cursor)
{
        while (*cursor && **cursor) {
                char *l = *cursor, *nl = strchr(l, '\n'), *e;
                *cursor = nl ? nl + 1 : NULL;
                if (nl)
                        *nl = '\0';
                while (isspace((unsigned char)*l))
                        l++;
                e = l + strlen(l);
                while (e > l && isspace((unsigned char)e[-1]))
                        *--e = '\0';
                if (*l && *l != '#')
                        return l;
        }
        return NULL;
}

/* Go's Atoi for ids: -1 when not a number (such a line never matches an id). */
static int64_t field_id(const char *s)
{
        char *end;
        long long v;

        if (!*s)
                return -1;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (*end || errno || v < 0 || v > ID_MAX)
                return -1;
        return v;
}

/* 1 and *id for a number, 0 for a name, < 0 out of range. */
static int parse_numeric(const char *s, int64_t *id)
{
        const char *p = s;
        char *end;
        long long v;

        if (!*s)
                return 0;
        if (*p == '+' || *p == '-')
                p++;
        if (!*p)
                return 0;
        for (; *p; p++)
                if (!isdigit((unsigned char)*p))
                        return 0;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno == ERANGE || v < 0 || v > ID_MAX)
                return -ERANGE;
        *id = v;
        return 1;
}

static int push_gid(struct engine_user *u, uint32_t gid)
{
        uint32_t *n;

        for (size_t i = 0; i < u->n_gids; i++)
                if (u->gids[i] == gid)
                        return 0;
        n = realloc(u->gids, (u->n_gids + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        n[u->n_gids++] = gid;
        u->gids = n;
        return 0;
}

static bool member_of(const char *list, const char *name)
{
        size_t n = strlen(name);

        if (!*name)
                return false;
        for (const char *p = list; *p;) {
                const char *c = strchrnul(p, ',');
                if ((size_t)(c - p) == n && strneq(p, name, n))
                        return true;
                p = *c ? c + 1 : c;
        }
        return false;
}

void engine_user_done(struct engine_user *u)
{
        free(u->gids);
        free(u->home);
        *u = (struct engine_user){0};
}

static int add_groups(const char *group, const char *const *group_add, struct engine_user *u,
                      struct berr **err)
{
        for (const char *const *ag = group_add; ag && *ag; ag++) {
                _cleanup_free_ char *copy = group ? strdup(group) : NULL;
                char *cur = copy, *line;
                int64_t gid = -1;
                int num;

                if (group && !copy)
                        return berr_make(err, ENOMEM, "--group-add");
                while ((line = next_line(&cur))) {
                        char *f[4];
                        split_fields(line, f, 4);
                        if (streq(f[0], *ag) || (field_id(f[2]) >= 0 && streq(f[2], *ag))) {
                                gid = field_id(f[2]);
                                if (gid >= 0)
                                        break;
                        }
                }
                if (gid < 0) {
                        num = parse_numeric(*ag, &gid);
                        if (num < 0)
                                return eng_err(err, ERANGE,
                                               "--group-add: uids and gids must be in range 0-%d", ID_MAX);
                        if (num == 0)
                                return eng_err(
                                    err, ENOENT,
                                    "--group-add: unable to find group %s: no matching entries in group file",
                                    *ag);
                }
                if (push_gid(u, (uint32_t)gid) < 0)
                        return berr_make(err, ENOMEM, "--group-add");
        }
        return 0;
}

int engine_user_resolve(int rootfd, const char *spec, const char *const *group_add, struct engine_user *out,
                        struct berr **err)
{
        _cleanup_free_ char *passwd = NULL, *group = NULL, *copy = NULL, *matched = NULL, *home = NULL;
        struct engine_user u = {0};
        const char *user_arg, *group_arg = "";
        int64_t uid_arg = 0, gid_arg = 0, uid = 0, gid = 0;
        int is_uid, is_gid;
        char *colon, *cur, *line;
        int r;

        copy = strdup(spec ? spec : "");
        if (!copy)
                return berr_make(err, ENOMEM, "--user");
        user_arg = copy;
        colon = strchr(copy, ':');
        if (colon) {
                *colon = '\0';
                group_arg = colon + 1;
                /* "user:group:extra": docker ignores what follows a second ':' */
                colon = strchr(colon + 1, ':');
                if (colon)
                        *colon = '\0';
        }
        is_uid = parse_numeric(user_arg, &uid_arg);
        is_gid = parse_numeric(group_arg, &gid_arg);
        if (is_uid < 0 || is_gid < 0)
                return eng_err(err, ERANGE, "--user: uids and gids must be in range 0-%d", ID_MAX);

        if (read_image_file(rootfd, "/etc/passwd", &passwd, err) < 0 ||
            read_image_file(rootfd, "/etc/group", &group, err) < 0)
                return -EIO;

        cur = passwd;
        while ((line = next_line(&cur))) {
                char *f[7];
                int64_t id;
                bool match;

                split_fields(line, f, 7);
                id = field_id(f[2]);
                if (!*user_arg)
                        match = id == 0;
                else if (is_uid)
                        match = id == uid_arg;
                else
                        match = streq(f[0], user_arg);
                if (match) {
                        /* An id out of range (or not a number) must not become 0 = root, nor -1
                         * which setresuid() reads as "unchanged" (CVE-2024-40635). */
                        if (id < 0 || field_id(f[3]) < 0)
                                return eng_err(err, ERANGE,
                                               "user %s: uid `%.32s` or gid `%.32s` in /etc/passwd is not "
                                               "in range 0-%d",
                                               f[0], f[2], f[3], ID_MAX);
                        matched = strdup(f[0]);
                        home = strdup(f[5]);
                        if (!matched || !home)
                                return berr_make(err, ENOMEM, "--user");
                        uid = id;
                        gid = field_id(f[3]);
                        break;
                }
        }
        if (!matched && *user_arg) {
                if (!is_uid)
                        return eng_err(err, ENOENT,
                                       "unable to find user %s: no matching entries in passwd file",
                                       user_arg);
                uid = uid_arg;
        }

        if (*group_arg || matched) {
                bool found = false;
                _cleanup_free_ uint32_t *sgids = NULL;
                /* Scanned on a copy: add_groups() reads the file again. */
                _cleanup_free_ char *gcopy = group ? strdup(group) : NULL;
                size_t n_sgids = 0;

                if (group && !gcopy)
                        return berr_make(err, ENOMEM, "--user");
                cur = gcopy;
                while ((line = next_line(&cur))) {
                        char *f[4];
                        int64_t id;

                        split_fields(line, f, 4);
                        id = field_id(f[2]);
                        if (id < 0)
                                continue;
                        if (!*group_arg) {
                                if (member_of(f[3], matched)) {
                                        uint32_t *n = realloc(sgids, (n_sgids + 1) * sizeof(*n));
                                        if (!n)
                                                return berr_make(err, ENOMEM, "--user");
                                        sgids = n;
                                        sgids[n_sgids++] = (uint32_t)id;
                                }
                        } else if (is_gid ? id == gid_arg : streq(f[0], group_arg)) {
                                gid = id;
                                found = true;
                                break;
                        }
                }
                if (*group_arg && !found) {
                        if (!is_gid)
                                return eng_err(err, ENOENT,
                                               "unable to find group %s: no matching entries in group file",
                                               group_arg);
                        gid = gid_arg;
                }
                u.uid = (uint32_t)uid;
                u.gid = (uint32_t)gid;
                /* docker lists the primary group first, then memberships, then --group-add. */
                r = push_gid(&u, u.gid);
                for (size_t i = 0; r >= 0 && i < n_sgids; i++)
                        r = push_gid(&u, sgids[i]);
                if (r < 0) {
                        engine_user_done(&u);
                        return berr_make(err, ENOMEM, "--user");
                }
        } else {
                u.uid = (uint32_t)uid;
                u.gid = (uint32_t)gid;
                if (push_gid(&u, u.gid) < 0)
                        return berr_make(err, ENOMEM, "--user");
        }
        if (add_groups(group, group_add, &u, err) < 0) {
                engine_user_done(&u);
                return -EINVAL;
        }
        u.home = strdup(home && *home ? home : "/");
        if (!u.home) {
                engine_user_done(&u);
                return berr_make(err, ENOMEM, "--user");
        }
        *out = u;
        return 0;
}
