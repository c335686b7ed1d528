/* SPDX-License-Identifier: Apache-2.0 */
/* The run options as typed, kept as JSON in the container's record. */
#include <stddef.h>
#include <string.h>

#include "basic/json.h"
#include "basic/strv.h"
#include "lifecycle.h"
#include "spec-internal.h"

enum field_type { F_STR, F_STRV, F_BOOL, F_UINT };

static const struct field {
        const char *key;
        enum field_type type;
        size_t off;
} fields[] = {
#define S(k, f)                                                                                              \
        {                                                                                                    \
                k, F_STR, offsetof(struct engine_run_opts, f)                                                \
        }
#define L(k, f)                                                                                              \
        {                                                                                                    \
                k, F_STRV, offsetof(struct engine_run_opts, f)                                               \
        }
#define B(k, f)                                                                                              \
        {                                                                                                    \
                k, F_BOOL, offsetof(struct engine_run_opts, f)                                               \
        }
#define U(k, f)                                                                                              \
        {                                                                                                    \
                k, F_UINT, offsetof(struct engine_run_opts, f)                                               \
        }
    S("entrypoint", entrypoint),
    L("cmd", cmd),
    L("env", env),
    L("envFiles", env_files),
    S("workdir", workdir),
    S("user", user),
    L("groupAdd", group_add),
    S("hostname", hostname),
    L("addHosts", add_hosts),
    L("dns", dns),
    L("dnsSearch", dns_search),
    L("dnsOptions", dns_options),
    L("capAdd", cap_add),
    L("capDrop", cap_drop),
    B("privileged", privileged),
    L("securityOpts", security_opts),
    B("readOnly", read_only),
    L("tmpfs", tmpfs),
    B("init", init),
    S("memory", memory),
    S("memoryReservation", memory_reservation),
    S("memorySwap", memory_swap),
    S("cpus", cpus),
    S("cpuShares", cpu_shares),
    S("cpuQuota", cpu_quota),
    S("cpuPeriod", cpu_period),
    S("cpusetCpus", cpuset_cpus),
    S("cpusetMems", cpuset_mems),
    S("pidsLimit", pids_limit),
    L("ulimits", ulimits),
    L("devices", devices),
    S("shmSize", shm_size),
    L("sysctls", sysctls),
    L("labels", labels),
    L("annotations", annotations),
    S("stopSignal", stop_signal),
    B("tty", tty),
    B("interactive", interactive),
    S("ipc", ipc),
    S("pid", pid),
    S("uts", uts),
    S("network", network),
    S("userns", userns),
    S("cgroupns", cgroupns),
    S("cgroupParent", cgroup_parent),
    U("consoleHeight", console_height),
    U("consoleWidth", console_width),
#undef S
#undef L
#undef B
#undef U
};

static const char *const mount_types[] = {"bind", "volume", "tmpfs"};

static json_object *mount_json(const struct engine_mount *m)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "type", json_object_new_string(mount_types[m->type]));
        if (m->source)
                json_object_object_add(o, "source", json_object_new_string(m->source));
        if (m->volume_name)
                json_object_object_add(o, "volumeName", json_object_new_string(m->volume_name));
        json_object_object_add(o, "destination", json_object_new_string(m->destination));
        json_object_object_add(o, "readonly", json_object_new_boolean(m->readonly));
        if (m->propagation)
                json_object_object_add(o, "propagation", json_object_new_string(m->propagation));
        json_object_object_add(o, "nocopy", json_object_new_boolean(m->nocopy));
        json_object_object_add(o, "nonRecursive", json_object_new_boolean(m->non_recursive));
        json_object_object_add(o, "createSource", json_object_new_boolean(m->create_source));
        json_object_object_add(o, "tmpfsSize", json_object_new_int64(m->tmpfs_size));
        json_object_object_add(o, "tmpfsMode", json_object_new_int(m->tmpfs_mode));
        return o;
}

json_object *engine_run_opts_to_json(const struct engine_run_opts *o)
{
        json_object *j = json_object_new_object(), *mounts;

        if (!j)
                return NULL;
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
                const void *p = (const char *)o + fields[i].off;
                json_object *v = NULL;
                switch (fields[i].type) {
                case F_STR:
                        if (*(const char *const *)p)
                                v = json_object_new_string(*(const char *const *)p);
                        break;
                case F_STRV:
                        if (*(const char *const *const *)p)
                                v = engine_json_strv(*(const char *const *const *)p);
                        break;
                case F_BOOL:
                        if (*(const bool *)p)
                                v = json_object_new_boolean(true);
                        break;
                case F_UINT:
                        if (*(const unsigned *)p)
                                v = json_object_new_int64(*(const unsigned *)p);
                        break;
                }
                if (v)
                        json_object_object_add(j, fields[i].key, v);
        }
        mounts = json_object_new_array();
        for (size_t i = 0; i < o->n_mounts; i++)
                json_object_array_add(mounts, mount_json(&o->mounts[i]));
        json_object_object_add(j, "mounts", mounts);
        return j;
}

void engine_run_opts_holder_done(struct engine_run_opts_holder *h)
{
        for (size_t i = 0; i < h->n_allocs; i++)
                free(h->allocs[i]);
        free(h->allocs);
        free(h->mounts);
        if (h->json)
                json_object_put(h->json);
        *h = (struct engine_run_opts_holder){0};
}

static int keep(struct engine_run_opts_holder *h, void *p, struct berr **err)
{
        void **n;

        if (!p)
                return berr_make(err, ENOMEM, "run options");
        n = realloc(h->allocs, (h->n_allocs + 1) * sizeof(*n));
        if (!n) {
                free(p);
                return berr_make(err, ENOMEM, "run options");
        }
        h->allocs = n;
        h->allocs[h->n_allocs++] = p;
        return 0;
}

/* Strings point into h->json; arrays of pointers are allocated and kept. */
static int strv_view(struct engine_run_opts_holder *h, json_object *a, const char *key,
                     const char *const **out, struct berr **err)
{
        size_t n;
        const char **v;

        if (!json_object_is_type(a, json_type_array))
                return eng_err(err, EINVAL, "stored run options: %s is not an array", key);
        n = json_object_array_length(a);
        v = calloc(n + 1, sizeof(char *));
        if (keep(h, v, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                json_object *s = json_object_array_get_idx(a, i);
                if (!json_object_is_type(s, json_type_string))
                        return eng_err(err, EINVAL, "stored run options: %s[%zu] is not a string", key, i);
                v[i] = json_object_get_string(s);
        }
        *out = v;
        return 0;
}

static const char *str_of(json_object *o, const char *key)
{
        json_object *v = json_object_object_get(o, key);
        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int engine_run_opts_from_json(json_object *j, struct engine_run_opts_holder *h, struct berr **err)
{
        json_object *mounts;

        *h = (struct engine_run_opts_holder){0};
        if (!json_object_is_type(j, json_type_object))
                return eng_err(err, EINVAL, "stored run options are not an object");
        h->json = json_object_get(j);
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
                void *p = (char *)&h->opts + fields[i].off;
                json_object *v = json_object_object_get(j, fields[i].key);
                if (!v)
                        continue;
                switch (fields[i].type) {
                case F_STR:
                        if (!json_object_is_type(v, json_type_string))
                                return eng_err(err, EINVAL, "stored run options: %s is not a string",
                                               fields[i].key);
                        *(const char **)p = json_object_get_string(v);
                        break;
                case F_STRV:
                        if (strv_view(h, v, fields[i].key, (const char *const **)p, err) < 0)
                                return -1;
                        break;
                case F_BOOL:
                        *(bool *)p = json_object_get_boolean(v);
                        break;
                case F_UINT:
                        *(unsigned *)p = (unsigned)json_object_get_int64(v);
                        break;
                }
        }
        mounts = json_object_object_get(j, "mounts");
        if (json_object_is_type(mounts, json_type_array) && json_object_array_length(mounts) > 0) {
                size_t n = json_object_array_length(mounts);
                h->mounts = calloc(n, sizeof(*h->mounts));
                if (!h->mounts)
                        return berr_make(err, ENOMEM, "run options");
                for (size_t i = 0; i < n; i++) {
                        json_object *m = json_object_array_get_idx(mounts, i);
                        struct engine_mount *d = &h->mounts[i];
                        const char *type = str_of(m, "type");
                        size_t t;
                        for (t = 0; type && t < ARRAY_SIZE(mount_types); t++)
                                if (streq(type, mount_types[t]))
                                        break;
                        if (!type || t == ARRAY_SIZE(mount_types) || !str_of(m, "destination"))
                                return eng_err(err, EINVAL, "stored run options: mounts[%zu] is invalid", i);
                        d->type = (enum engine_mount_type)t;
                        d->source = (char *)str_of(m, "source");
                        d->volume_name = (char *)str_of(m, "volumeName");
                        d->destination = (char *)str_of(m, "destination");
                        d->propagation = (char *)str_of(m, "propagation");
                        d->readonly = json_object_get_boolean(json_object_object_get(m, "readonly"));
                        d->nocopy = json_object_get_boolean(json_object_object_get(m, "nocopy"));
                        d->non_recursive = json_object_get_boolean(json_object_object_get(m, "nonRecursive"));
                        d->create_source = json_object_get_boolean(json_object_object_get(m, "createSource"));
                        d->tmpfs_size = json_object_get_int64(json_object_object_get(m, "tmpfsSize"));
                        d->tmpfs_mode = json_object_object_get_ex(m, "tmpfsMode", NULL)
                                            ? json_object_get_int(json_object_object_get(m, "tmpfsMode"))
                                            : -1;
                }
                h->opts.mounts = h->mounts;
                h->opts.n_mounts = n;
        }
        return 0;
}
