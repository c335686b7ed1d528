/* SPDX-License-Identifier: Apache-2.0 */
/* The host's cgroup layout (v1, v2 or hybrid) and linux.cgroupsPath resolution. */
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/statfs.h>

#include "basic/fileio.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "cgroup-internal.h"

static const char *const v1_controllers[] = {
    "cpuset",     "cpu",      "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls",
    "perf_event", "net_prio", "hugetlb", "pids",  "rdma",   "misc",    "debug",
};

const char *cgroup_mode_name(enum cgroup_mode m)
{
        switch (m) {
        case CGROUP_MODE_V1:
                return "v1";
        case CGROUP_MODE_V2:
                return "v2";
        case CGROUP_MODE_HYBRID:
                return "hybrid";
        }
        return "?";
}

int cgroup_mode_from_name(const char *s)
{
        for (int m = CGROUP_MODE_V1; m <= CGROUP_MODE_HYBRID; m++)
                if (streq(s, cgroup_mode_name(m)))
                        return m;
        return -EINVAL;
}

static void hier_done(struct cgroup_hier *h)
{
        free(h->mount_point);
        free(h->mount_root);
        strv_free(h->controllers);
        free(h->own_path);
}

void cgroup_host_done(struct cgroup_host *host)
{
        for (size_t i = 0; i < host->n; i++)
                hier_done(&host->h[i]);
        free(host->h);
        *host = (struct cgroup_host){};
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape_field(const char *s)
{
        char *r = malloc(strlen(s) + 1), *o = r;

        if (!r)
                return NULL;
        while (*s) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
                    s[3] <= '7') {
                        *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 4;
                } else
                        *o++ = *s++;
        }
        *o = '\0';
        return r;
}

static bool is_v1_controller(const char *opt)
{
        if (strneq(opt, "name=", 5))
                return opt[5] != '\0';
        for (size_t i = 0; i < ARRAY_SIZE(v1_controllers); i++)
                if (streq(opt, v1_controllers[i]))
                        return true;
        return false;
}

static bool same_set(char *const *a, char *const *b)
{
        if (strv_length(a) != strv_length(b))
                return false;
        STRV_FOREACH (s, a)
                if (!strv_contains(b, *s))
                        return false;
        return true;
}

static bool has_real_controller(const struct cgroup_hier *h)
{
        STRV_FOREACH (c, h->controllers)
                if (!strneq(*c, "name=", 5))
                        return true;
        return false;
}

static int add_hier(struct cgroup_host *host, struct cgroup_hier *h, struct berr **err)
{
        struct cgroup_hier *n = realloc(host->h, (host->n + 1) * sizeof(*n));

        if (!n) {
                hier_done(h);
                return berr_make(err, ENOMEM, "cgroup hierarchies");
        }
        host->h = n;
        host->h[host->n++] = *h;
        return 0;
}

/* One mountinfo line: "id parent maj:min root mountpoint opts [optional...] - fstype source superopts". */
static int parse_mount_line(char *line, struct cgroup_host *host, struct berr **err)
{
        char *f[64], *save = NULL, *tok, *superopts;
        struct cgroup_hier h = {};
        size_t nf = 0, dash = 0;

        for (tok = strtok_r(line, " ", &save); tok && nf < ARRAY_SIZE(f); tok = strtok_r(NULL, " ", &save)) {
                if (!dash && nf >= 6 && streq(tok, "-"))
                        dash = nf;
                f[nf++] = tok;
        }
        if (!dash || nf < dash + 4)
                return 0;
        if (!streq(f[dash + 1], "cgroup") && !streq(f[dash + 1], "cgroup2"))
                return 0;
        h.v2 = streq(f[dash + 1], "cgroup2");
        superopts = f[dash + 3];
        if (!h.v2) {
                char *s2 = NULL;
                for (tok = strtok_r(superopts, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2))
                        if (is_v1_controller(tok) && !strv_contains(h.controllers, tok) &&
                            strv_extend(&h.controllers, tok) < 0)
                                goto oom;
                if (!h.controllers)
                        return 0;
        }
        /* The same hierarchy mounted again (a bind mount, a container's view): keep the first. */
        for (size_t i = 0; i < host->n; i++)
                if (host->h[i].v2 == h.v2 && (h.v2 || same_set(host->h[i].controllers, h.controllers))) {
                        hier_done(&h);
                        return 0;
                }
        h.mount_root = unescape_field(f[3]);
        h.mount_point = unescape_field(f[4]);
        if (!h.mount_root || !h.mount_point)
                goto oom;
        if (!path_is_absolute(h.mount_point) || !path_is_absolute(h.mount_root)) {
                hier_done(&h);
                return 0;
        }
        return add_hier(host, &h, err);
oom:
        hier_done(&h);
        return berr_make(err, ENOMEM, "mountinfo");
}

int cgroup_host_parse_mountinfo(const char *text, struct cgroup_host *host, struct berr **err)
{
        _cleanup_free_ char *copy = strdup(text);
        bool v1 = false, v2 = false;
        char *save = NULL;

        *host = (struct cgroup_host){};
        if (!copy)
                return berr_make(err, ENOMEM, "mountinfo");
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                if (parse_mount_line(line, host, err) < 0) {
                        cgroup_host_done(host);
                        return -1;
                }
        for (size_t i = 0; i < host->n; i++) {
                if (host->h[i].v2)
                        v2 = true;
                else if (has_real_controller(&host->h[i]))
                        v1 = true;
        }
        if (v1 && v2)
                host->mode = CGROUP_MODE_HYBRID;
        else if (v1)
                host->mode = CGROUP_MODE_V1;
        else if (v2) {
                /* Named v1 hierarchies beside a unified host belong to others (a legacy systemd). */
                size_t j = 0;
                host->mode = CGROUP_MODE_V2;
                for (size_t i = 0; i < host->n; i++) {
                        if (host->h[i].v2)
                                host->h[j++] = host->h[i];
                        else
                                hier_done(&host->h[i]);
                }
                host->n = j;
        } else {
                cgroup_host_done(host);
                return berr_make(err, ENOENT,
                                 "no cgroup filesystem is mounted (/proc/self/mountinfo has none)");
        }
        return 0;
}

int cgroup_host_parse_self(struct cgroup_host *host, const char *text, struct berr **err)
{
        _cleanup_free_ char *copy = strdup(text);
        char *save = NULL;

        if (!copy)
                return berr_make(err, ENOMEM, "/proc/self/cgroup");
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_strv_free_ char **ctrls = NULL;
                char *c1 = strchr(line, ':'), *c2, *s2 = NULL;

                if (!c1 || !(c2 = strchr(c1 + 1, ':')))
                        continue;
                *c2 = '\0';
                for (char *t = strtok_r(c1 + 1, ",", &s2); t; t = strtok_r(NULL, ",", &s2))
                        if (strv_extend(&ctrls, t) < 0)
                                return berr_make(err, ENOMEM, "/proc/self/cgroup");
                for (size_t i = 0; i < host->n; i++) {
                        struct cgroup_hier *h = &host->h[i];
                        bool match = h->v2 ? strv_length(ctrls) == 0 && line[0] == '0' && c1 == line + 1
                                           : ctrls && same_set(h->controllers, ctrls);
                        if (!match)
                                continue;
                        free(h->own_path);
                        h->own_path = strdup(c2 + 1);
                        if (!h->own_path)
                                return berr_make(err, ENOMEM, "/proc/self/cgroup");
                }
        }
        return 0;
}

int cgroup_host_read_v2_controllers(struct cgroup_host *host, struct berr **err)
{
        for (size_t i = 0; i < host->n; i++) {
                struct cgroup_hier *h = &host->h[i];
                _cleanup_close_ int fd = -1;
                _cleanup_free_ char *text = NULL;
                char *save = NULL;

                if (!h->v2)
                        continue;
                fd = open(h->mount_point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return berr_errno(err, "open %s", h->mount_point);
                if (cg_read(fd, h->mount_point, "cgroup.controllers", &text, err) < 0)
                        return -1;
                strv_free(h->controllers);
                h->controllers = NULL;
                for (char *t = strtok_r(text, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
                        if (strv_extend(&h->controllers, t) < 0)
                                return berr_make(err, ENOMEM, "cgroup.controllers");
        }
        return 0;
}

int cgroup_host_detect(struct cgroup_host *host, struct berr **err)
{
        _cleanup_free_ char *mi = NULL, *self = NULL;

        if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", 64u << 20, &mi, NULL, err) < 0 ||
            cgroup_host_parse_mountinfo(mi, host, err) < 0)
                return -1;
        if (read_file_at(AT_FDCWD, "/proc/self/cgroup", CGROUP_READ_MAX, &self, NULL, err) < 0 ||
            cgroup_host_parse_self(host, self, err) < 0 || cgroup_host_read_v2_controllers(host, err) < 0) {
                cgroup_host_done(host);
                return -1;
        }
        for (size_t i = 0; i < host->n; i++) {
                struct statfs sf;
                long want = host->h[i].v2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC;

                if (statfs(host->h[i].mount_point, &sf) < 0 || sf.f_type != want) {
                        berr_make(err, 0, "%s: not a %s filesystem", host->h[i].mount_point,
                                  host->h[i].v2 ? "cgroup2" : "cgroup");
                        cgroup_host_done(host);
                        return -1;
                }
        }
        return 0;
}

ssize_t cgroup_host_find(const struct cgroup_host *host, const char *controller, bool v2)
{
        for (size_t i = 0; i < host->n; i++)
                if (host->h[i].v2 == v2 && strv_contains(host->h[i].controllers, controller))
                        return (ssize_t)i;
        return -1;
}

ssize_t cgroup_host_v2(const struct cgroup_host *host)
{
        for (size_t i = 0; i < host->n; i++)
                if (host->h[i].v2)
                        return (ssize_t)i;
        return -1;
}

/* Lexically resolves "." and ".." of a path taken as relative to some base;
 * fails when ".." would climb above that base. */
static int clean_below(const char *p, char **out)
{
        _cleanup_free_ char *r = malloc(strlen(p) + 1);
        size_t len = 0;

        if (!r)
                return -ENOMEM;
        while (*p) {
                const char *e;
                size_t n;

                while (*p == '/')
                        p++;
                e = strchrnul(p, '/');
                n = (size_t)(e - p);
                if (n == 0 || (n == 1 && p[0] == '.')) {
                        p = e;
                        continue;
                }
                if (n > NAME_MAX)
                        return -ENAMETOOLONG;
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (len == 0)
                                return -EPERM;
                        while (len > 0 && r[len - 1] != '/')
                                len--;
                        if (len > 0)
                                len--;
                } else {
                        if (len > 0)
                                r[len++] = '/';
                        memcpy(r + len, p, n);
                        len += n;
                }
                p = e;
        }
        r[len] = '\0';
        *out = TAKE_PTR(r);
        return 0;
}

int cgroup_resolve_paths(const struct cgroup_host *host, const char *cgroups_path, const char *id,
                         char ***out, struct berr **err)
{
        _cleanup_free_ char *def = NULL, *clean = NULL;
        _cleanup_strv_free_ char **paths = NULL;
        bool absolute;
        int r;

        if (strempty(cgroups_path)) {
                if (strempty(id) || strchr(id, '/') || streq(id, ".") || streq(id, ".."))
                        return berr_make(err, 0, "container id `%s` cannot name a cgroup", id ? id : "");
                if (asprintf(&def, "/" CGROUP_DEFAULT_PARENT "/%s", id) < 0)
                        return berr_make(err, ENOMEM, "cgroupsPath");
                cgroups_path = def;
        }
        if (strlen(cgroups_path) > PATH_MAX)
                return berr_make(err, 0, "linux.cgroupsPath: longer than %d bytes", PATH_MAX);
        absolute = path_is_absolute(cgroups_path);
        r = clean_below(cgroups_path, &clean);
        if (r == -EPERM)
                return berr_make(err, 0, "linux.cgroupsPath: `%s` escapes the %s with `..`", cgroups_path,
                                 absolute ? "cgroup hierarchy" : "runtime's own cgroup");
        if (r == -ENAMETOOLONG)
                return berr_make(err, 0, "linux.cgroupsPath: `%s` has a component longer than %d bytes",
                                 cgroups_path, NAME_MAX);
        if (r < 0)
                return berr_make(err, -r, "cgroupsPath");
        if (!*clean)
                return berr_make(err, 0, "linux.cgroupsPath: `%s` names the %s itself", cgroups_path,
                                 absolute ? "root cgroup" : "runtime's own cgroup");

        paths = calloc(host->n + 1, sizeof(char *));
        if (!paths)
                return berr_make(err, ENOMEM, "cgroupsPath");
        for (size_t i = 0; i < host->n; i++) {
                const struct cgroup_hier *h = &host->h[i];
                _cleanup_free_ char *base = NULL;
                const char *own, *root;
                size_t rl;

                if (absolute) {
                        paths[i] = strdup(clean);
                        if (!paths[i])
                                return berr_make(err, ENOMEM, "cgroupsPath");
                        continue;
                }
                if (!h->own_path)
                        return berr_make(
                            err, 0,
                            "linux.cgroupsPath: `%s` is relative but the runtime's own cgroup in %s "
                            "is unknown",
                            cgroups_path, h->mount_point);
                /* The own cgroup as seen below the mount point. */
                own = h->own_path;
                root = h->mount_root;
                rl = streq(root, "/") ? 0 : strlen(root);
                if (rl > 0 && (!strneq(own, root, rl) || (own[rl] != '\0' && own[rl] != '/')))
                        return berr_make(
                            err, 0,
                            "linux.cgroupsPath: the runtime's own cgroup %s is not visible in %s "
                            "(mounted from %s)",
                            own, h->mount_point, root);
                base = path_join(own + rl, clean);
                if (!base)
                        return berr_make(err, ENOMEM, "cgroupsPath");
                r = clean_below(base, &paths[i]);
                if (r < 0)
                        return berr_make(err, -r, "cgroupsPath `%s`", base);
        }
        *out = TAKE_PTR(paths);
        return 0;
}

int cgroup_parse_systemd_path(const char *p, char **slice, char **prefix, char **name, struct berr **err)
{
        _cleanup_free_ char *s = NULL, *pre = NULL, *n = NULL;
        const char *c1 = strchr(p, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

        if (!c1 || !c2 || strchr(c2 + 1, ':'))
                return berr_make(
                    err, 0, "linux.cgroupsPath: expected \"slice:prefix:name\" for systemd cgroups, got `%s`",
                    p);
        s = strndup(p, (size_t)(c1 - p));
        pre = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
        n = strdup(c2 + 1);
        if (!s || !pre || !n)
                return berr_make(err, ENOMEM, "cgroupsPath");
        if (*s && (strlen(s) <= 6 || !streq(s + strlen(s) - 6, ".slice")))
                return berr_make(err, 0, "linux.cgroupsPath: systemd slice `%s` does not end in .slice", s);
        if (!*n)
                return berr_make(err, 0, "linux.cgroupsPath: `%s` has an empty unit name", p);
        if (strchr(p, '/'))
                return berr_make(err, 0, "linux.cgroupsPath: `%s`: systemd unit names cannot contain `/`", p);
        *slice = TAKE_PTR(s);
        *prefix = TAKE_PTR(pre);
        *name = TAKE_PTR(n);
        return 0;
}
