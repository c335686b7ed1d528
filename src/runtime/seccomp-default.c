/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "oci/spec.h"
#include "runtime/seccomp-default.h"

/* runtime-spec name, docker's name (GOARCH-like, as in its profiles). */
static const char *const arch_aliases[][2] = {
    {"SCMP_ARCH_X86", "x86"},
    {"SCMP_ARCH_X86_64", "amd64"},
    {"SCMP_ARCH_X32", "x32"},
    {"SCMP_ARCH_ARM", "arm"},
    {"SCMP_ARCH_AARCH64", "arm64"},
    {"SCMP_ARCH_MIPS", "mips"},
    {"SCMP_ARCH_MIPS64", "mips64"},
    {"SCMP_ARCH_MIPS64N32", "mips64n32"},
    {"SCMP_ARCH_MIPSEL", "mipsel"},
    {"SCMP_ARCH_MIPSEL64", "mipsel64"},
    {"SCMP_ARCH_MIPSEL64N32", "mipsel64n32"},
    {"SCMP_ARCH_PPC", "ppc"},
    {"SCMP_ARCH_PPC64", "ppc64"},
    {"SCMP_ARCH_PPC64LE", "ppc64le"},
    {"SCMP_ARCH_S390", "s390"},
    {"SCMP_ARCH_S390X", "s390x"},
    {"SCMP_ARCH_PARISC", "parisc"},
    {"SCMP_ARCH_PARISC64", "parisc64"},
    {"SCMP_ARCH_RISCV64", "riscv64"},
    {"SCMP_ARCH_LOONGARCH64", "loong64"},
};

static void json_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}

/* The SCMP_ARCH_* name for either spelling, or NULL. */
static const char *arch_canonical(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(arch_aliases); i++)
                if (streq(name, arch_aliases[i][0]) || streq(name, arch_aliases[i][1]))
                        return arch_aliases[i][0];
        return NULL;
}

static const char *arch_native(void)
{
        uint32_t native = seccomp_arch_native();

        for (size_t i = 0; i < ARRAY_SIZE(arch_aliases); i++) {
                const char *n = arch_aliases[i][0] + strlen("SCMP_ARCH_");
                char lower[24];
                size_t j;

                for (j = 0; n[j] && j < sizeof(lower) - 1; j++)
                        lower[j] = (char)tolower((unsigned char)n[j]);
                lower[j] = '\0';
                if (seccomp_arch_resolve_name(lower) == native)
                        return arch_aliases[i][0];
        }
        return NULL;
}

/* "M.m" as docker writes it: two decimal numbers, not both 0. */
static int parse_kernel_version(const char *s, const char *path, unsigned int *major, unsigned int *minor,
                                struct berr **err)
{
        unsigned int a, b;
        int end = 0;

        if (sscanf(s, "%3u.%3u%n", &a, &b, &end) != 2 || s[end] != '\0' || !isdigit((unsigned char)s[0]) ||
            (a == 0 && b == 0))
                return berr_make(err, 0, "%s: invalid kernel version `%s`, expected \"<major>.<minor>\"",
                                 path, s);
        *major = a;
        *minor = b;
        return 0;
}

struct target {
        const char *arch;
        uint64_t caps;
        unsigned int major, minor;
};

/* Evaluates an includes/excludes object. For includes, *hit is whether all
 * given conditions hold; for excludes, whether any does. */
static int eval_filter(json_object *f, const char *path, const struct target *t, bool all, bool *hit,
                       struct berr **err)
{
        _cleanup_free_ char *kpath = NULL;
        json_object *arches, *caps, *kv;
        bool any = false, every = true;
        int r;

        if (!json_object_is_type(f, json_type_object))
                return berr_make(err, 0, "%s: expected an object, got %s", path,
                                 json_type_label(json_object_get_type(f)));
        r = json_get(f, path, "arches", json_type_array, false, &arches, err);
        if (r < 0)
                return r;
        if (arches) {
                bool listed = false;
                size_t n = json_object_array_length(arches);

                for (size_t i = 0; i < n; i++) {
                        json_object *v = json_object_array_get_idx(arches, i);
                        const char *a;

                        if (!json_object_is_type(v, json_type_string))
                                return berr_make(err, 0, "%s.arches[%zu]: expected a string, got %s", path, i,
                                                 json_type_label(json_object_get_type(v)));
                        a = arch_canonical(json_object_get_string(v));
                        if (!a)
                                return berr_make(err, 0, "%s.arches[%zu]: unknown architecture `%s`", path, i,
                                                 json_object_get_string(v));
                        listed = listed || (t->arch && streq(a, t->arch));
                }
                any = any || listed;
                every = every && listed;
        }
        r = json_get(f, path, "caps", json_type_array, false, &caps, err);
        if (r < 0)
                return r;
        if (caps) {
                size_t n = json_object_array_length(caps);

                for (size_t i = 0; i < n; i++) {
                        json_object *v = json_object_array_get_idx(caps, i);
                        bool held;
                        int cap;

                        if (!json_object_is_type(v, json_type_string))
                                return berr_make(err, 0, "%s.caps[%zu]: expected a string, got %s", path, i,
                                                 json_type_label(json_object_get_type(v)));
                        /* A capability this build does not know cannot be held. */
                        cap = oci_cap_from_name(json_object_get_string(v));
                        held = cap >= 0 && cap < 64 && (t->caps & (UINT64_C(1) << cap));
                        any = any || held;
                        every = every && held;
                }
        }
        r = json_get(f, path, "minKernel", json_type_string, false, &kv, err);
        if (r < 0)
                return r;
        if (kv) {
                unsigned int major = 0, minor = 0;
                bool newer;

                kpath = json_path_key(path, "minKernel");
                r = parse_kernel_version(json_object_get_string(kv), kpath ? kpath : path, &major, &minor,
                                         err);
                if (r < 0)
                        return r;
                newer = t->major > major || (t->major == major && t->minor >= minor);
                any = any || newer;
                every = every && newer;
        }
        *hit = all ? every : any;
        return 0;
}

static int resolve_rule(json_object *rule, const char *path, const struct target *t, json_object **out,
                        struct berr **err)
{
        _cleanup_(json_putp) json_object *o = NULL;
        json_object *inc = NULL, *exc = NULL, *name = NULL, *names = NULL;
        bool hit;
        int r;

        *out = NULL;
        if (!json_object_is_type(rule, json_type_object))
                return berr_make(err, 0, "%s: expected an object, got %s", path,
                                 json_type_label(json_object_get_type(rule)));
        json_object_object_get_ex(rule, "excludes", &exc);
        if (exc) {
                _cleanup_free_ char *p = json_path_key(path, "excludes");
                r = eval_filter(exc, p ? p : path, t, false, &hit, err);
                if (r < 0 || hit)
                        return r;
        }
        json_object_object_get_ex(rule, "includes", &inc);
        if (inc) {
                _cleanup_free_ char *p = json_path_key(path, "includes");
                r = eval_filter(inc, p ? p : path, t, true, &hit, err);
                if (r < 0 || !hit)
                        return r;
        }
        json_object_object_get_ex(rule, "name", &name);
        json_object_object_get_ex(rule, "names", &names);
        if (name && names)
                return berr_make(err, 0, "%s: both `name` and `names` are given", path);
        o = json_object_new_object();
        if (!o)
                return berr_make(err, ENOMEM, "%s", path);
        json_object_object_foreach (rule, k, v) {
                if (streq(k, "comment") || streq(k, "includes") || streq(k, "excludes") || streq(k, "name"))
                        continue;
                json_object_object_add(o, k, json_object_get(v));
        }
        if (name) {
                json_object *l = json_object_new_array();
                if (!l)
                        return berr_make(err, ENOMEM, "%s", path);
                json_object_array_add(l, json_object_get(name));
                json_object_object_add(o, "names", l);
        }
        *out = TAKE_PTR(o);
        return 0;
}

static int resolve_archs(json_object *profile, const struct target *t, json_object *out, struct berr **err)
{
        json_object *map;
        size_t n;
        int r;

        r = json_get(profile, "seccomp", "archMap", json_type_array, false, &map, err);
        if (r <= 0)
                return r;
        if (json_object_object_get_ex(profile, "architectures", NULL))
                return berr_make(err, 0, "seccomp: both `architectures` and `archMap` are given");
        n = json_object_array_length(map);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(map, i), *arch, *subs, *l;
                char path[48];

                snprintf(path, sizeof(path), "seccomp.archMap[%zu]", i);
                if (!json_object_is_type(e, json_type_object))
                        return berr_make(err, 0, "%s: expected an object, got %s", path,
                                         json_type_label(json_object_get_type(e)));
                r = json_get(e, path, "architecture", json_type_string, true, &arch, err);
                if (r < 0)
                        return r;
                r = json_get(e, path, "subArchitectures", json_type_array, false, &subs, err);
                if (r < 0)
                        return r;
                if (!arch_canonical(json_object_get_string(arch)))
                        return berr_make(err, 0, "%s.architecture: unknown architecture `%s`", path,
                                         json_object_get_string(arch));
                if (!t->arch || !streq(arch_canonical(json_object_get_string(arch)), t->arch))
                        continue;
                l = json_object_new_array();
                if (!l)
                        return berr_make(err, ENOMEM, "%s", path);
                json_object_object_add(out, "architectures", l);
                json_object_array_add(l, json_object_new_string(t->arch));
                for (size_t j = 0; subs && j < json_object_array_length(subs); j++) {
                        json_object *s = json_object_array_get_idx(subs, j);
                        const char *c = json_object_is_type(s, json_type_string)
                                            ? arch_canonical(json_object_get_string(s))
                                            : NULL;
                        if (!c)
                                return berr_make(err, 0, "%s.subArchitectures[%zu]: not an architecture name",
                                                 path, j);
                        json_object_array_add(l, json_object_new_string(c));
                }
                return 0;
        }
        return 0;
}

int seccomp_profile_resolve(json_object *profile, const struct seccomp_target *st, json_object **out,
                            struct berr **err)
{
        _cleanup_(json_putp) json_object *o = NULL;
        json_object *syscalls, *l;
        struct target t = {.caps = st->caps, .major = st->kernel_major, .minor = st->kernel_minor};
        int r;

        *out = NULL;
        if (!json_object_is_type(profile, json_type_object))
                return berr_make(err, 0, "seccomp: expected an object, got %s",
                                 json_type_label(json_object_get_type(profile)));
        t.arch = st->arch ? arch_canonical(st->arch) : arch_native();
        if (st->arch && !t.arch)
                return berr_make(err, 0, "seccomp: unknown architecture `%s`", st->arch);
        if (t.major == 0 && t.minor == 0) {
                struct utsname u;
                if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &t.major, &t.minor) != 2)
                        return berr_make(err, EINVAL, "seccomp: cannot read the kernel version");
        }
        r = json_get(profile, "seccomp", "syscalls", json_type_array, false, &syscalls, err);
        if (r < 0)
                return r;

        o = json_object_new_object();
        l = json_object_new_array();
        if (!o || !l) {
                json_object_put(l);
                return berr_make(err, ENOMEM, "seccomp");
        }
        json_object_object_foreach (profile, k, v) {
                if (streq(k, "archMap") || streq(k, "comment") || streq(k, "syscalls"))
                        continue;
                json_object_object_add(o, k, json_object_get(v));
        }
        json_object_object_add(o, "syscalls", l);
        r = resolve_archs(profile, &t, o, err);
        if (r < 0)
                return r;
        for (size_t i = 0; syscalls && i < json_object_array_length(syscalls); i++) {
                json_object *rule;
                char path[48];

                snprintf(path, sizeof(path), "seccomp.syscalls[%zu]", i);
                r = resolve_rule(json_object_array_get_idx(syscalls, i), path, &t, &rule, err);
                if (r < 0)
                        return r;
                if (rule)
                        json_object_array_add(l, rule);
        }
        *out = TAKE_PTR(o);
        return 0;
}

int seccomp_profile_load(const char *path, json_object **out, struct berr **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        r = read_file_at(AT_FDCWD, path, SECCOMP_PROFILE_MAX, &buf, &len, err);
        if (r < 0)
                return berr_wrap(err, "seccomp profile");
        return json_parse_buf(buf, len, path, out, err);
}
