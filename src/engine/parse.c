/* SPDX-License-Identifier: Apache-2.0 */
/* Flag values parsed as docker's CLI and daemon parse them. */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "spec-internal.h"

extern char **environ;

int eng_err(struct berr **err, int code, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        bool fresh = err && !*err;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return berr_make(err, ENOMEM, "error message");
        berr_make(err, 0, "%s", msg);
        if (fresh && *err)
                (*err)->code = code;
        return -code;
}

int engine_parse_bool(const char *s, bool *out)
{
        static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
        static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};

        for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
                if (streq(s, yes[i])) {
                        *out = true;
                        return 0;
                }
                if (streq(s, no[i])) {
                        *out = false;
                        return 0;
                }
        }
        return -EINVAL;
}

int engine_parse_int(const char *flag, const char *s, int64_t min, int64_t max, int64_t *out,
                     struct berr **err)
{
        char *end;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (!*s || *end || isspace((unsigned char)*s) || errno == ERANGE)
                return eng_err(err, EINVAL, "%s: invalid number `%s`", flag, s);
        if (v < min || v > max)
                return eng_err(err, ERANGE, "%s: %s is out of range (%" PRId64 " to %" PRId64 ")", flag, s,
                               min, max);
        *out = v;
        return 0;
}

int engine_parse_size(const char *flag, const char *s, int64_t *out, struct berr **err)
{
        const char *sfx, *p;
        char num[64], lsfx[4] = "";
        long double v, mul = 1;
        size_t nlen, slen;
        char *end;

        /* "10 m" and "10m" both work, as with docker. */
        p = strchr(s, ' ');
        if (p) {
                nlen = (size_t)(p - s);
                sfx = p + 1;
        } else {
                const char *last = NULL;
                for (p = s; *p; p++)
                        if (isdigit((unsigned char)*p) || *p == '.')
                                last = p;
                if (!last)
                        goto bad;
                nlen = (size_t)(last - s) + 1;
                sfx = last + 1;
        }
        if (nlen == 0 || nlen >= sizeof(num))
                goto bad;
        memcpy(num, s, nlen);
        num[nlen] = '\0';
        for (p = num; *p; p++)
                if (!isdigit((unsigned char)*p) && *p != '.')
                        goto bad;
        errno = 0;
        v = strtold(num, &end);
        if (*end || errno == ERANGE)
                goto bad;
        slen = strlen(sfx);
        if (slen > 3)
                goto bad;
        for (size_t i = 0; i < slen; i++)
                lsfx[i] = (char)tolower((unsigned char)sfx[i]);
        lsfx[slen] = '\0';
        if (slen > 0 && lsfx[0] != 'b') {
                const char *units = "kmgtp";
                const char *u = strchr(units, lsfx[0]);
                if (!u || (slen == 2 && lsfx[1] != 'b') || (slen == 3 && !streq(lsfx + 1, "ib")))
                        goto bad;
                for (const char *q = units; q <= u; q++)
                        mul *= 1024;
        } else if (slen > 1) {
                goto bad;
        }
        v *= mul;
        if (v >= 9223372036854775807.0L)
                return eng_err(err, ERANGE, "%s: size `%s` is too large", flag, s);
        *out = (int64_t)v;
        return 0;
bad:
        return eng_err(err, EINVAL, "%s: invalid size `%s`", flag, s);
}

int engine_parse_cpus(const char *s, int64_t *nano, struct berr **err)
{
        int64_t whole = 0, frac = 0;
        const char *p = s;
        int digits = 0, fdigits = 0;

        for (; isdigit((unsigned char)*p); p++, digits++) {
                if (whole > INT64_MAX / 10 / 1000000000)
                        return eng_err(err, ERANGE, "--cpus: `%s` is too large", s);
                whole = whole * 10 + (*p - '0');
        }
        if (*p == '.') {
                for (p++; isdigit((unsigned char)*p); p++, fdigits++) {
                        if (fdigits == 9) {
                                if (*p != '0')
                                        return eng_err(err, EINVAL, "--cpus: `%s` is too precise", s);
                                continue;
                        }
                        frac = frac * 10 + (*p - '0');
                }
        }
        if (*p || digits + fdigits == 0)
                return eng_err(err, EINVAL, "--cpus: invalid number `%s`", s);
        for (int i = MIN(fdigits, 9); i < 9; i++)
                frac *= 10;
        *nano = whole * 1000000000 + frac;
        if (*nano == 0)
                return eng_err(err, EINVAL, "--cpus: must be > 0");
        return 0;
}

int engine_parse_signal(const char *flag, const char *s, int *out, struct berr **err)
{
        const char *name = s;
        int64_t n;

        if (isdigit((unsigned char)*s)) {
                if (engine_parse_int(flag, s, 1, SIGRTMAX, &n, NULL) < 0)
                        return eng_err(err, EINVAL, "%s: invalid signal `%s`", flag, s);
                *out = (int)n;
                return 0;
        }
        if (strncasecmp(name, "SIG", 3) == 0)
                name += 3;
        for (int sig = 1; sig < SIGRTMIN; sig++) {
                const char *abbrev = sigabbrev_np(sig);
                if (abbrev && strcasecmp(abbrev, name) == 0) {
                        *out = sig;
                        return 0;
                }
        }
        return eng_err(err, EINVAL, "%s: invalid signal `%s`", flag, s);
}

static const struct {
        const char *name;
        int resource;
} ulimit_names[] = {
    /* docker leaves out "as": it breaks the way containers start. */
    {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},         {"fsize", RLIMIT_FSIZE},
    {"locks", RLIMIT_LOCKS},       {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},     {"nproc", RLIMIT_NPROC},
    {"rss", RLIMIT_RSS},           {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

int engine_parse_ulimit(const char *s, int *resource, uint64_t *soft, uint64_t *hard, struct berr **err)
{
        const char *eq = strchr(s, '='), *colon;
        _cleanup_free_ char *name = NULL, *soft_s = NULL;
        int64_t sv, hv;
        int res = -1;

        if (!eq)
                return eng_err(err, EINVAL, "--ulimit: `%s` is not NAME=SOFT[:HARD]", s);
        name = strndup(s, (size_t)(eq - s));
        if (!name)
                return berr_make(err, ENOMEM, "--ulimit");
        for (size_t i = 0; i < ARRAY_SIZE(ulimit_names); i++)
                if (streq(name, ulimit_names[i].name))
                        res = ulimit_names[i].resource;
        if (res < 0)
                return eng_err(err, EINVAL, "--ulimit: unknown limit `%s`", name);
        colon = strchr(eq + 1, ':');
        soft_s = colon ? strndup(eq + 1, (size_t)(colon - eq - 1)) : strdup(eq + 1);
        if (!soft_s)
                return berr_make(err, ENOMEM, "--ulimit");
        if (engine_parse_int("--ulimit", soft_s, -1, INT64_MAX, &sv, err) < 0)
                return -EINVAL;
        hv = sv;
        if (colon && engine_parse_int("--ulimit", colon + 1, -1, INT64_MAX, &hv, err) < 0)
                return -EINVAL;
        if (hv != -1 && (sv == -1 || sv > hv))
                return eng_err(
                    err, EINVAL,
                    "--ulimit: %s: soft limit must be less than or equal to hard limit: %s > %" PRId64, name,
                    sv == -1 ? "-1 (unlimited)" : soft_s, hv);
        *resource = res;
        *soft = sv == -1 ? RLIM_INFINITY : (uint64_t)sv;
        *hard = hv == -1 ? RLIM_INFINITY : (uint64_t)hv;
        return 0;
}

enum {
        TF_RDONLY = 1,
        TF_NOSUID,
        TF_NODEV,
        TF_NOEXEC,
        TF_SYNC,
        TF_DIRSYNC,
        TF_MAND,
        TF_NOATIME,
        TF_NODIRATIME,
        TF_RELATIME,
        TF_STRICTATIME,
        TF_PROPAGATION,
};

static int tmpfs_flag_kind(const char *o)
{
        static const struct {
                const char *name;
                int kind;
        } flags[] = {
            {"ro", TF_RDONLY},
            {"rw", TF_RDONLY},
            {"suid", TF_NOSUID},
            {"nosuid", TF_NOSUID},
            {"dev", TF_NODEV},
            {"nodev", TF_NODEV},
            {"exec", TF_NOEXEC},
            {"noexec", TF_NOEXEC},
            {"sync", TF_SYNC},
            {"async", TF_SYNC},
            {"dirsync", TF_DIRSYNC},
            {"mand", TF_MAND},
            {"nomand", TF_MAND},
            {"atime", TF_NOATIME},
            {"noatime", TF_NOATIME},
            {"diratime", TF_NODIRATIME},
            {"nodiratime", TF_NODIRATIME},
            {"relatime", TF_RELATIME},
            {"norelatime", TF_RELATIME},
            {"strictatime", TF_STRICTATIME},
            {"nostrictatime", TF_STRICTATIME},
            {"private", TF_PROPAGATION},
            {"rprivate", TF_PROPAGATION},
            {"shared", TF_PROPAGATION},
            {"rshared", TF_PROPAGATION},
            {"slave", TF_PROPAGATION},
            {"rslave", TF_PROPAGATION},
            {"unbindable", TF_PROPAGATION},
            {"runbindable", TF_PROPAGATION},
        };
        for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
                if (streq(o, flags[i].name))
                        return flags[i].kind;
        return 0;
}

int engine_tmpfs_options(const char *flag, const char *data, char ***out, struct berr **err)
{
        static const char *const data_keys[] = {"size",      "mode",      "uid", "gid",
                                                "nr_inodes", "nr_blocks", "mpol"};
        _cleanup_strv_free_ char **in = NULL, **res = NULL;
        _cleanup_free_ char *copy = NULL;
        bool seen_flag[TF_PROPAGATION + 1] = {false};
        bool seen_data[ARRAY_SIZE(data_keys)] = {false};
        size_t n, kept = 0;

        if (strv_extend(&in, "noexec") < 0 || strv_extend(&in, "nosuid") < 0 ||
            strv_extend(&in, "nodev") < 0 || strv_extend(&in, "rprivate") < 0)
                return berr_make(err, ENOMEM, "%s", flag);
        if (data && *data) {
                char *save = NULL;
                copy = strdup(data);
                if (!copy)
                        return berr_make(err, ENOMEM, "%s", flag);
                for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                        if (strv_extend(&in, t) < 0)
                                return berr_make(err, ENOMEM, "%s", flag);
        }
        n = strv_length(in);
        res = calloc(n + 1, sizeof(char *));
        if (!res)
                return berr_make(err, ENOMEM, "%s", flag);
        /* From the end, keeping the last option of each kind, as moby's MergeTmpfsOptions. */
        for (size_t i = n; i-- > 0;) {
                const char *o = in[i];
                int kind;
                bool keep = false;

                if (streq(o, "defaults"))
                        continue;
                kind = tmpfs_flag_kind(o);
                if (kind) {
                        keep = !seen_flag[kind];
                        seen_flag[kind] = true;
                } else {
                        const char *eq = strchr(o, '=');
                        size_t k;
                        for (k = 0; eq && k < ARRAY_SIZE(data_keys); k++)
                                if (strlen(data_keys[k]) == (size_t)(eq - o) &&
                                    strneq(o, data_keys[k], eq - o))
                                        break;
                        if (!eq || k == ARRAY_SIZE(data_keys))
                                return eng_err(err, EINVAL, "%s: invalid tmpfs option `%s`", flag, o);
                        keep = !seen_data[k];
                        seen_data[k] = true;
                }
                if (keep) {
                        memmove(res + 1, res, kept * sizeof(char *));
                        res[0] = strdup(o);
                        if (!res[0])
                                return berr_make(err, ENOMEM, "%s", flag);
                        kept++;
                }
        }
        *out = TAKE_PTR(res);
        return 0;
}

int engine_cpuset_contains(const char *list, unsigned id)
{
        const char *p = list;
        bool found = false;

        if (!*p)
                return -EINVAL;
        while (*p) {
                char *end;
                unsigned long a, b;

                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                a = strtoul(p, &end, 10);
                b = a;
                if (*end == '-') {
                        if (!isdigit((unsigned char)end[1]))
                                return -EINVAL;
                        b = strtoul(end + 1, &end, 10);
                        if (b < a)
                                return -EINVAL;
                }
                if (*end && *end != ',' && *end != '\n')
                        return -EINVAL;
                if (id >= a && id <= b)
                        found = true;
                p = *end == ',' ? end + 1 : end;
                if (*p == '\n')
                        break;
        }
        return found;
}

int engine_parse_cpuset(const char *flag, const char *s, const char *avail, struct berr **err)
{
        char buf[4096];
        const char *p = s;

        if (engine_cpuset_contains(s, 0) < 0)
                return eng_err(err, EINVAL, "%s: invalid list `%s`", flag, s);
        if (read_line_at(AT_FDCWD, avail, buf, sizeof(buf)) <= 0)
                return 0; /* nothing to check against (no NUMA information, say) */
        while (*p) {
                char *end;
                unsigned long a = strtoul(p, &end, 10), b = a;
                if (*end == '-')
                        b = strtoul(end + 1, &end, 10);
                for (unsigned long i = a; i <= b; i++)
                        if (engine_cpuset_contains(buf, (unsigned)i) != 1)
                                return eng_err(err, EINVAL,
                                               "%s: requested %s are not available - available: %s", flag, s,
                                               buf);
                p = *end ? end + 1 : end;
        }
        return 0;
}

const char *engine_getenv(const char *const *env, const char *name)
{
        size_t n = strlen(name);

        if (!env)
                env = (const char *const *)environ;
        for (; env && *env; env++)
                if (strneq(*env, name, n) && (*env)[n] == '=')
                        return *env + n + 1;
        return NULL;
}

/* Drops each ".." with the component before it; at the root there is none to drop. */
static void drop_dotdot(char *clean)
{
        char *o = clean + 1, *s = clean + 1;

        while (*s) {
                char *e = strchrnul(s, '/');
                size_t n = (size_t)(e - s);

                if (n == 2 && s[0] == '.' && s[1] == '.') {
                        while (o > clean + 1 && o[-1] == '/')
                                o--;
                        while (o > clean + 1 && o[-1] != '/')
                                o--;
                } else {
                        memmove(o, s, n);
                        o += n;
                        if (*e)
                                *o++ = '/';
                }
                s = *e ? e + 1 : e;
        }
        while (o > clean + 1 && o[-1] == '/')
                o--;
        *o = '\0';
}

int engine_clean_destination(const char *flag, const char *spec, const char *dest, char **out,
                             struct berr **err)
{
        char *clean;

        if (!path_is_absolute(dest))
                return eng_err(err, EINVAL,
                               "%s: invalid mount path `%s` in `%s`: mount path must be absolute", flag, dest,
                               spec);
        clean = path_clean(dest);
        if (!clean)
                return berr_make(err, ENOMEM, "%s", flag);
        drop_dotdot(clean);
        if (streq(clean, "/")) {
                free(clean);
                return eng_err(err, EINVAL, "%s: invalid specification `%s`: destination can't be '/'", flag,
                               spec);
        }
        *out = clean;
        return 0;
}

json_object *engine_json_strv(const char *const *v)
{
        json_object *a = json_object_new_array();

        for (; v && *v; v++)
                json_object_array_add(a, json_object_new_string(*v));
        return a;
}

/* ---- -v and --mount ------------------------------------------------------ */

static bool is_propagation(const char *o)
{
        static const char *const modes[] = {"private", "rprivate", "shared", "rshared", "slave", "rslave"};

        for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
                if (streq(o, modes[i]))
                        return true;
        return false;
}

static bool volume_name_valid(const char *n)
{
        if (!isalnum((unsigned char)n[0]) || !n[1])
                return false;
        for (const char *p = n + 1; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
                        return false;
        return true;
}

void engine_mount_done(struct engine_mount *m)
{
        free(m->source);
        free(m->volume_name);
        free(m->destination);
        free(m->propagation);
        *m = (struct engine_mount){.tmpfs_mode = -1};
}

static int mount_finish(const char *flag, const char *spec, struct engine_mount *m, struct berr **err)
{
        char *clean;

        if (!m->destination || !*m->destination)
                return eng_err(err, EINVAL, "%s: target is required in `%s`", flag, spec);
        if (engine_clean_destination(flag, spec, m->destination, &clean, err) < 0)
                return -EINVAL;
        free(m->destination);
        m->destination = clean;
        switch (m->type) {
        case ENGINE_MOUNT_BIND:
                if (!m->source || !*m->source)
                        return eng_err(err, EINVAL, "%s: bind mounts need a source: `%s`", flag, spec);
                if (!path_is_absolute(m->source))
                        return eng_err(err, EINVAL, "%s: bind source `%s` must be an absolute path", flag,
                                       m->source);
                if (m->nocopy)
                        return eng_err(err, EINVAL, "%s: nocopy applies to volumes, not to bind mounts: `%s`",
                                       flag, spec);
                break;
        case ENGINE_MOUNT_VOLUME:
                if (m->propagation || m->non_recursive)
                        return eng_err(err, EINVAL, "%s: bind options do not apply to volumes: `%s`", flag,
                                       spec);
                if (m->volume_name && !volume_name_valid(m->volume_name))
                        return eng_err(
                            err, EINVAL,
                            "%s: `%s` includes invalid characters for a local volume name, only "
                            "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
                            "directory, use absolute path",
                            flag, m->volume_name);
                break;
        case ENGINE_MOUNT_TMPFS:
                if (m->source)
                        return eng_err(err, EINVAL, "%s: tmpfs mounts take no source: `%s`", flag, spec);
                if (m->propagation || m->non_recursive || m->nocopy)
                        return eng_err(err, EINVAL, "%s: bind and volume options do not apply to tmpfs: `%s`",
                                       flag, spec);
                break;
        }
        return 0;
}

int engine_mount_parse_volume(const char *spec, struct engine_mount *out, struct berr **err)
{
        struct engine_mount m = {.tmpfs_mode = -1};
        _cleanup_free_ char *copy = strdup(spec), *mode = NULL;
        char *parts[4] = {NULL};
        size_t n = 0;
        int rw = 0, label = 0, prop = 0, copymode = 0, consistency = 0;

        if (!copy)
                return berr_make(err, ENOMEM, "--volume");
        for (char *p = copy; p && n < 4; n++) {
                char *c = n < 3 ? strchr(p, ':') : NULL;
                parts[n] = p;
                if (c)
                        *c = '\0';
                p = c ? c + 1 : NULL;
        }
        if (n > 3 || !*parts[0])
                return eng_err(err, EINVAL, "--volume: invalid volume specification: '%s'", spec);
        if (n == 1) {
                m.destination = strdup(parts[0]);
        } else {
                m.source = strdup(parts[0]);
                m.destination = strdup(parts[1]);
                if (n == 3)
                        mode = strdup(parts[2]);
        }
        if (!m.destination || (n > 1 && !m.source) || (n == 3 && !mode))
                goto oom;
        if (mode) {
                char *save = NULL;
                for (char *o = strtok_r(mode, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                        if (streq(o, "ro") || streq(o, "rw")) {
                                rw++;
                                m.readonly = streq(o, "ro");
                        } else if (streq(o, "z") || streq(o, "Z")) {
                                /* SELinux relabelling: no SELinux on berth's hosts, accepted and ignored. */
                                label++;
                        } else if (is_propagation(o)) {
                                prop++;
                                free(m.propagation);
                                m.propagation = strdup(o);
                                if (!m.propagation)
                                        goto oom;
                        } else if (streq(o, "nocopy")) {
                                copymode++;
                                m.nocopy = true;
                        } else if (streq(o, "consistent") || streq(o, "cached") || streq(o, "delegated")) {
                                consistency++;
                        } else {
                                engine_mount_done(&m);
                                return eng_err(err, EINVAL, "--volume: invalid mode: %s", parts[2]);
                        }
                }
                if (rw > 1 || label > 1 || prop > 1 || copymode > 1 || consistency > 1) {
                        engine_mount_done(&m);
                        return eng_err(err, EINVAL, "--volume: invalid mode: %s", parts[2]);
                }
        }
        if (m.source && path_is_absolute(m.source)) {
                m.type = ENGINE_MOUNT_BIND;
                m.create_source = true;
        } else {
                m.type = ENGINE_MOUNT_VOLUME;
                m.volume_name = TAKE_PTR(m.source);
        }
        if (mount_finish("--volume", spec, &m, err) < 0) {
                engine_mount_done(&m);
                return -EINVAL;
        }
        *out = m;
        return 0;
oom:
        engine_mount_done(&m);
        return berr_make(err, ENOMEM, "--volume");
}

static int mount_bool(const char *spec, const char *key, const char *val, bool *out, struct berr **err)
{
        if (!val) {
                *out = true;
                return 0;
        }
        if (strcasecmp(val, "1") == 0 || strcasecmp(val, "true") == 0) {
                *out = true;
                return 0;
        }
        if (strcasecmp(val, "0") == 0 || strcasecmp(val, "false") == 0) {
                *out = false;
                return 0;
        }
        return eng_err(err, EINVAL, "--mount: invalid value for %s: %s in `%s`", key, val, spec);
}

static int mount_set_str(char **field, const char *val)
{
        char *d = strdup(val);

        if (!d)
                return -ENOMEM;
        free(*field);
        *field = d;
        return 0;
}

int engine_mount_parse_mount(const char *spec, struct engine_mount *out, struct berr **err)
{
        struct engine_mount m = {.type = ENGINE_MOUNT_VOLUME, .tmpfs_mode = -1};
        _cleanup_free_ char *copy = strdup(spec), *source = NULL;
        bool bind_opt = false, volume_opt = false, tmpfs_opt = false;
        char *save = NULL;
        int r = 0;

        if (!copy)
                return berr_make(err, ENOMEM, "--mount");
        for (char *f = strtok_r(copy, ",", &save); f && r >= 0; f = strtok_r(NULL, ",", &save)) {
                char *val = strchr(f, '=');
                const char *key = f;

                if (val)
                        *val++ = '\0';
                if (streq(key, "type") && val) {
                        if (streq(val, "bind"))
                                m.type = ENGINE_MOUNT_BIND;
                        else if (streq(val, "volume"))
                                m.type = ENGINE_MOUNT_VOLUME;
                        else if (streq(val, "tmpfs"))
                                m.type = ENGINE_MOUNT_TMPFS;
                        else
                                r = eng_err(err, EINVAL, "--mount: unsupported mount type `%s`", val);
                } else if ((streq(key, "source") || streq(key, "src")) && val) {
                        r = mount_set_str(&source, val);
                } else if ((streq(key, "target") || streq(key, "destination") || streq(key, "dst")) && val) {
                        r = mount_set_str(&m.destination, val);
                } else if (streq(key, "readonly") || streq(key, "ro")) {
                        r = mount_bool(spec, key, val, &m.readonly, err);
                } else if (streq(key, "consistency") && val) {
                        /* macOS file sharing hints, meaningless on Linux (docker ignores them too). */
                } else if (streq(key, "bind-propagation") && val) {
                        bind_opt = true;
                        if (!is_propagation(val))
                                r = eng_err(err, EINVAL, "--mount: invalid propagation mode `%s`", val);
                        else
                                r = mount_set_str(&m.propagation, val);
                } else if (streq(key, "bind-nonrecursive")) {
                        bind_opt = true;
                        r = mount_bool(spec, key, val, &m.non_recursive, err);
                } else if (streq(key, "volume-nocopy")) {
                        volume_opt = true;
                        r = mount_bool(spec, key, val, &m.nocopy, err);
                } else if (streq(key, "volume-driver") && val) {
                        volume_opt = true;
                        if (!streq(val, "local"))
                                r = eng_err(err, ENOTSUP,
                                            "--mount: volume driver `%s` is not supported (only local)", val);
                } else if (streq(key, "tmpfs-size") && val) {
                        tmpfs_opt = true;
                        r = engine_parse_size("--mount tmpfs-size", val, &m.tmpfs_size, err);
                        if (r >= 0 && m.tmpfs_size <= 0)
                                r = eng_err(err, EINVAL, "--mount: tmpfs-size must be > 0");
                } else if (streq(key, "tmpfs-mode") && val) {
                        char *end;
                        unsigned long mode;
                        tmpfs_opt = true;
                        errno = 0;
                        mode = strtoul(val, &end, 8);
                        if (!*val || *end || errno || mode > 07777)
                                r = eng_err(err, EINVAL, "--mount: invalid tmpfs-mode `%s`", val);
                        else
                                m.tmpfs_mode = (int)mode;
                } else {
                        r = eng_err(err, EINVAL, "--mount: unexpected key '%s' in '%s'", key, spec);
                }
                if (r == -ENOMEM)
                        r = berr_make(err, ENOMEM, "--mount");
        }
        if (r >= 0 && bind_opt && m.type != ENGINE_MOUNT_BIND)
                r = eng_err(err, EINVAL, "--mount: bind-* options need type=bind: `%s`", spec);
        if (r >= 0 && volume_opt && m.type != ENGINE_MOUNT_VOLUME)
                r = eng_err(err, EINVAL, "--mount: volume-* options need type=volume: `%s`", spec);
        if (r >= 0 && tmpfs_opt && m.type != ENGINE_MOUNT_TMPFS)
                r = eng_err(err, EINVAL, "--mount: tmpfs-* options need type=tmpfs: `%s`", spec);
        if (r >= 0) {
                if (m.type == ENGINE_MOUNT_VOLUME)
                        m.volume_name = TAKE_PTR(source);
                else
                        m.source = TAKE_PTR(source);
                r = mount_finish("--mount", spec, &m, err);
        }
        if (r >= 0 && m.type == ENGINE_MOUNT_BIND) {
                struct stat st;
                if (stat(m.source, &st) < 0)
                        r = eng_err(err, ENOENT, "--mount: bind source path does not exist: %s", m.source);
        }
        if (r < 0) {
                engine_mount_done(&m);
                return r;
        }
        *out = m;
        return 0;
}
