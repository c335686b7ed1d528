/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/log.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "spec.h"

/* Helpers keep each section's parser a flat list of fields. */
#define SUB(path, key) _cleanup_free_ char *key##_path = json_path_key(path, #key)

static int require_absolute(const char *path, const char *field, const char *value, struct berr **err)
{
        if (!path_is_absolute(value))
                return berr_make(err, 0, "%s%s%s: `%s` must be an absolute path", path, *path ? "." : "", field,
                                 value);
        return 0;
}

static int parse_id_maps(json_object *obj, const char *path, const char *key, struct oci_id_map **out,
                         size_t *n_out, struct berr **err)
{
        _cleanup_free_ char *p = json_path_key(path, key);
        json_object *arr;
        size_t n;
        int r = json_get(obj, path, key, json_type_array, false, &arr, err);

        if (r <= 0)
                return r;
        n = json_object_array_length(arr);
        if (n > 340)
                return berr_make(err, 0, "%s: too many mappings (%zu, the kernel allows 340)", p, n);
        *out = calloc(n ? n : 1, sizeof(**out));
        if (!*out)
                return berr_make(err, ENOMEM, "%s", p);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ep = json_path_idx(p, i);
                json_object *e = json_object_array_get_idx(arr, i);
                int64_t c = 0, h = 0, s = 0;
                if (!json_object_is_type(e, json_type_object))
                        return berr_make(err, 0, "%s: expected an object", ep);
                if (!json_object_object_get_ex(e, "containerID", NULL) ||
                    !json_object_object_get_ex(e, "hostID", NULL) || !json_object_object_get_ex(e, "size", NULL))
                        return berr_make(err, 0, "%s: containerID, hostID and size are required", ep);
                if (json_get_int64(e, ep, "containerID", 0, UINT32_MAX, &c, err) < 0 ||
                    json_get_int64(e, ep, "hostID", 0, UINT32_MAX, &h, err) < 0 ||
                    json_get_int64(e, ep, "size", 1, UINT32_MAX, &s, err) < 0)
                        return -1;
                (*out)[i] = (struct oci_id_map){(uint32_t)c, (uint32_t)h, (uint32_t)s};
        }
        *n_out = n;
        return 1;
}

static int parse_caps(json_object *obj, const char *path, struct oci_caps *caps, struct berr **err)
{
        static const char *const sets[] = {"bounding", "effective", "inheritable", "permitted", "ambient"};
        uint64_t *masks[] = {&caps->bounding, &caps->effective, &caps->inheritable, &caps->permitted,
                             &caps->ambient};
        json_object *c;
        int r = json_get(obj, path, "capabilities", json_type_object, false, &c, err);
        SUB(path, capabilities);

        if (r <= 0)
                return r;
        caps->present = true;
        for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
                _cleanup_strv_free_ char **names = NULL;
                if (json_get_strv(c, capabilities_path, sets[s], &names, err) < 0)
                        return -1;
                STRV_FOREACH (n, names) {
                        int cap = oci_cap_from_name(*n);
                        /* Like runc: unknown capabilities are not granted, and said so. */
                        if (cap < 0 || cap > oci_cap_last()) {
                                log_warn("%s.%s: ignoring unknown or unavailable capability %s",
                                         capabilities_path, sets[s], *n);
                                continue;
                        }
                        *masks[s] |= UINT64_C(1) << cap;
                }
        }
        return 1;
}

static int parse_rlimits(json_object *obj, const char *path, struct oci_process *p, struct berr **err)
{
        json_object *arr;
        size_t n;
        int r = json_get(obj, path, "rlimits", json_type_array, false, &arr, err);
        SUB(path, rlimits);

        if (r <= 0)
                return r;
        n = json_object_array_length(arr);
        p->rlimits = calloc(n ? n : 1, sizeof(*p->rlimits));
        if (!p->rlimits)
                return berr_make(err, ENOMEM, "rlimits");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ep = json_path_idx(rlimits_path, i), *type = NULL;
                json_object *e = json_object_array_get_idx(arr, i);
                struct oci_rlimit *rl = &p->rlimits[i];
                if (!json_object_is_type(e, json_type_object))
                        return berr_make(err, 0, "%s: expected an object", ep);
                if (json_get_str(e, ep, "type", true, &type, err) < 0)
                        return -1;
                rl->resource = oci_rlimit_from_name(type);
                if (rl->resource < 0)
                        return berr_make(err, 0, "%s.type: unknown rlimit `%s`", ep, type);
                for (size_t j = 0; j < i; j++)
                        if (p->rlimits[j].resource == rl->resource)
                                return berr_make(err, 0, "%s.type: duplicate rlimit `%s`", ep, type);
                if (!json_object_object_get_ex(e, "soft", NULL) || !json_object_object_get_ex(e, "hard", NULL))
                        return berr_make(err, 0, "%s: soft and hard are required", ep);
                if (json_get_uint64(e, ep, "soft", &rl->soft, err) < 0 ||
                    json_get_uint64(e, ep, "hard", &rl->hard, err) < 0)
                        return -1;
                if (rl->soft > rl->hard)
                        return berr_make(err, 0, "%s: soft limit %" PRIu64 " is above the hard limit %" PRIu64,
                                         ep, rl->soft, rl->hard);
                p->n_rlimits++;
        }
        return 1;
}

static int parse_user(json_object *obj, const char *path, struct oci_user *u, struct berr **err)
{
        json_object *o, *gids;
        int64_t v;
        int r = json_get(obj, path, "user", json_type_object, false, &o, err);
        SUB(path, user);

        if (r <= 0)
                return r;
        v = 0;
        if (json_get_int64(o, user_path, "uid", 0, UINT32_MAX - 1, &v, err) < 0)
                return -1;
        u->uid = (uint32_t)v;
        v = 0;
        if (json_get_int64(o, user_path, "gid", 0, UINT32_MAX - 1, &v, err) < 0)
                return -1;
        u->gid = (uint32_t)v;
        r = json_get_int64(o, user_path, "umask", 0, 0777, &v, err);
        if (r < 0)
                return r;
        if (r > 0) {
                u->has_umask = true;
                u->umask = (mode_t)v;
        }
        r = json_get(o, user_path, "additionalGids", json_type_array, false, &gids, err);
        if (r < 0)
                return r;
        if (r > 0) {
                _cleanup_free_ char *gp = json_path_key(user_path, "additionalGids");
                size_t n = json_object_array_length(gids);
                if (n > 65536)
                        return berr_make(err, 0, "%s: too many groups", gp);
                u->additional_gids = calloc(n ? n : 1, sizeof(gid_t));
                if (!u->additional_gids)
                        return berr_make(err, ENOMEM, "additionalGids");
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *ep = json_path_idx(gp, i);
                        if (json_as_int64(json_object_array_get_idx(gids, i), ep, 0, UINT32_MAX - 1, &v, err) < 0)
                                return -1;
                        u->additional_gids[i] = (gid_t)v;
                }
                u->n_additional_gids = n;
        }
        return 1;
}

static const struct {
        const char *name;
        uint32_t value;
} sched_policies[] = {
        {"SCHED_OTHER", SCHED_OTHER}, {"SCHED_FIFO", SCHED_FIFO},   {"SCHED_RR", SCHED_RR},
        {"SCHED_BATCH", SCHED_BATCH}, {"SCHED_ISO", 4},             {"SCHED_IDLE", SCHED_IDLE},
        {"SCHED_DEADLINE", 6},
};

static const struct {
        const char *name;
        uint64_t value;
} sched_flags[] = {
        {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},
        {"SCHED_FLAG_DL_OVERRUN", 0x04},    {"SCHED_FLAG_KEEP_POLICY", 0x08},
        {"SCHED_FLAG_KEEP_PARAMS", 0x10},   {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
        {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

static int parse_scheduler(json_object *obj, const char *path, struct oci_sched *s, struct berr **err)
{
        _cleanup_free_ char *policy = NULL;
        _cleanup_strv_free_ char **flags = NULL;
        json_object *o;
        int64_t v;
        int r = json_get(obj, path, "scheduler", json_type_object, false, &o, err);
        SUB(path, scheduler);

        if (r <= 0)
                return r;
        s->present = true;
        if (json_get_str(o, scheduler_path, "policy", true, &policy, err) < 0)
                return -1;
        for (r = 0; r < (int)ARRAY_SIZE(sched_policies); r++)
                if (streq(policy, sched_policies[r].name))
                        break;
        if (r == (int)ARRAY_SIZE(sched_policies))
                return berr_make(err, 0, "%s.policy: unknown policy `%s`", scheduler_path, policy);
        s->policy = sched_policies[r].value;
        v = 0;
        if (json_get_int64(o, scheduler_path, "nice", -20, 19, &v, err) < 0)
                return -1;
        s->nice = (int32_t)v;
        v = 0;
        if (json_get_int64(o, scheduler_path, "priority", 0, 99, &v, err) < 0)
                return -1;
        s->priority = (int32_t)v;
        if (json_get_uint64(o, scheduler_path, "runtime", &s->runtime, err) < 0 ||
            json_get_uint64(o, scheduler_path, "deadline", &s->deadline, err) < 0 ||
            json_get_uint64(o, scheduler_path, "period", &s->period, err) < 0)
                return -1;
        if (json_get_strv(o, scheduler_path, "flags", &flags, err) < 0)
                return -1;
        STRV_FOREACH (f, flags) {
                size_t i;
                for (i = 0; i < ARRAY_SIZE(sched_flags); i++)
                        if (streq(*f, sched_flags[i].name))
                                break;
                if (i == ARRAY_SIZE(sched_flags))
                        return berr_make(err, 0, "%s.flags: unknown flag `%s`", scheduler_path, *f);
                s->flags |= sched_flags[i].value;
        }
        return 1;
}

static int parse_io_priority(json_object *obj, const char *path, struct oci_process *p, struct berr **err)
{
        static const struct {
                const char *name;
                int value;
        } classes[] = {{"IOPRIO_CLASS_RT", IOPRIO_CLASS_RT},
                       {"IOPRIO_CLASS_BE", IOPRIO_CLASS_BE},
                       {"IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE}};
        _cleanup_free_ char *cls = NULL;
        json_object *o;
        int64_t prio = 0;
        size_t i;
        int r = json_get(obj, path, "ioPriority", json_type_object, false, &o, err);
        SUB(path, ioPriority);

        if (r <= 0)
                return r;
        if (json_get_str(o, ioPriority_path, "class", true, &cls, err) < 0)
                return -1;
        for (i = 0; i < ARRAY_SIZE(classes); i++)
                if (streq(cls, classes[i].name))
                        break;
        if (i == ARRAY_SIZE(classes))
                return berr_make(err, 0, "%s.class: unknown class `%s`", ioPriority_path, cls);
        if (json_get_int64(o, ioPriority_path, "priority", 0, 7, &prio, err) < 0)
                return -1;
        p->has_io_priority = true;
        p->io_priority_class = classes[i].value;
        p->io_priority = (int)prio;
        return 1;
}

int oci_process_parse(json_object *obj, const char *path, struct oci_process *p, struct berr **err)
{
        json_object *o;
        int64_t v;
        int r;

        if (json_get_bool(obj, path, "terminal", &p->terminal, err) < 0)
                return -1;
        r = json_get(obj, path, "consoleSize", json_type_object, false, &o, err);
        if (r < 0)
                return r;
        if (r > 0) {
                SUB(path, consoleSize);
                p->has_console_size = true;
                if (json_get_int64(o, consoleSize_path, "height", 0, UINT16_MAX, &v, err) < 0)
                        return -1;
                p->console_height = (uint32_t)v;
                v = 0;
                if (json_get_int64(o, consoleSize_path, "width", 0, UINT16_MAX, &v, err) < 0)
                        return -1;
                p->console_width = (uint32_t)v;
        }
        if (parse_user(obj, path, &p->user, err) < 0)
                return -1;
        if (json_get_strv(obj, path, "args", &p->args, err) < 0 || json_get_strv(obj, path, "env", &p->env, err) < 0)
                return -1;
        if (!p->args || !p->args[0]) {
                _cleanup_free_ char *ap = json_path_key(path, "args");
                return berr_make(err, 0, "%s: at least one argument is required", ap);
        }
        STRV_FOREACH (e, p->env)
                if (!strchr(*e, '=')) {
                        _cleanup_free_ char *ep = json_path_key(path, "env");
                        return berr_make(err, 0, "%s: `%s` is not of the form KEY=value", ep, *e);
                }
        if (json_get_str(obj, path, "cwd", false, &p->cwd, err) < 0)
                return -1;
        if (!p->cwd)
                p->cwd = strdup("/");
        else if (require_absolute(path, "cwd", p->cwd, err) < 0)
                return -1;
        if (parse_caps(obj, path, &p->caps, err) < 0 || parse_rlimits(obj, path, p, err) < 0)
                return -1;
        if (json_get_bool(obj, path, "noNewPrivileges", &p->no_new_privileges, err) < 0 ||
            json_get_str(obj, path, "apparmorProfile", false, &p->apparmor_profile, err) < 0 ||
            json_get_str(obj, path, "selinuxLabel", false, &p->selinux_label, err) < 0)
                return -1;
        r = json_get_int64(obj, path, "oomScoreAdj", -1000, 1000, &v, err);
        if (r < 0)
                return r;
        if (r > 0) {
                p->has_oom_score_adj = true;
                p->oom_score_adj = (int)v;
        }
        if (parse_io_priority(obj, path, p, err) < 0 || parse_scheduler(obj, path, &p->scheduler, err) < 0)
                return -1;
        r = json_get(obj, path, "execCPUAffinity", json_type_object, false, &o, err);
        if (r < 0)
                return r;
        if (r > 0) {
                SUB(path, execCPUAffinity);
                if (json_get_str(o, execCPUAffinity_path, "initial", false, &p->cpu_affinity_initial, err) < 0 ||
                    json_get_str(o, execCPUAffinity_path, "final", false, &p->cpu_affinity_final, err) < 0)
                        return -1;
        }
        return 0;
}

static int parse_root(json_object *obj, struct oci_spec *s, struct berr **err)
{
        json_object *o;
        int r = json_get(obj, "", "root", json_type_object, true, &o, err);

        if (r <= 0)
                return -1;
        if (json_get_str(o, "root", "path", true, &s->root_path, err) < 0 ||
            json_get_bool(o, "root", "readonly", &s->root_readonly, err) < 0)
                return -1;
        if (!*s->root_path)
                return berr_make(err, 0, "root.path: must not be empty");
        return 0;
}

static int parse_mounts(json_object *obj, struct oci_spec *s, struct berr **err)
{
        json_object *arr;
        size_t n;
        int r = json_get(obj, "", "mounts", json_type_array, false, &arr, err);

        if (r <= 0)
                return r;
        n = json_object_array_length(arr);
        s->mounts = calloc(n ? n : 1, sizeof(*s->mounts));
        if (!s->mounts)
                return berr_make(err, ENOMEM, "mounts");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ep = json_path_idx("mounts", i);
                json_object *e = json_object_array_get_idx(arr, i);
                struct oci_mount *m = &s->mounts[i];
                s->n_mounts++;
                if (!json_object_is_type(e, json_type_object))
                        return berr_make(err, 0, "%s: expected an object", ep);
                if (json_get_str(e, ep, "destination", true, &m->destination, err) < 0 ||
                    json_get_str(e, ep, "type", false, &m->type, err) < 0 ||
                    json_get_str(e, ep, "source", false, &m->source, err) < 0 ||
                    json_get_strv(e, ep, "options", &m->options, err) < 0 ||
                    parse_id_maps(e, ep, "uidMappings", &m->uid_mappings, &m->n_uid_mappings, err) < 0 ||
                    parse_id_maps(e, ep, "gidMappings", &m->gid_mappings, &m->n_gid_mappings, err) < 0)
                        return -1;
                if (!*m->destination)
                        return berr_make(err, 0, "%s.destination: must not be empty", ep);
                if (!path_is_absolute(m->destination)) {
                        /* runc accepts these (relative to "/") with a warning; so do we. */
                        char *abs = path_join("/", m->destination);
                        if (!abs)
                                return berr_make(err, ENOMEM, "mounts");
                        log_warn("%s.destination: `%s` is not absolute, using `%s`", ep, m->destination, abs);
                        free(m->destination);
                        m->destination = abs;
                }
                if (!!m->uid_mappings != !!m->gid_mappings)
                        return berr_make(err, 0, "%s: uidMappings and gidMappings must be set together", ep);
        }
        return 0;
}

static int parse_hooks(json_object *obj, struct oci_spec *s, struct berr **err)
{
        json_object *hooks;
        int r = json_get(obj, "", "hooks", json_type_object, false, &hooks, err);

        if (r <= 0)
                return r;
        for (int k = 0; k < OCI_HOOK_COUNT; k++) {
                _cleanup_free_ char *kp = json_path_key("hooks", oci_hook_kind_name(k));
                json_object *arr;
                size_t n;
                r = json_get(hooks, "hooks", oci_hook_kind_name(k), json_type_array, false, &arr, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                n = json_object_array_length(arr);
                s->hooks[k] = calloc(n ? n : 1, sizeof(struct oci_hook));
                if (!s->hooks[k])
                        return berr_make(err, ENOMEM, "hooks");
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *ep = json_path_idx(kp, i);
                        json_object *e = json_object_array_get_idx(arr, i);
                        struct oci_hook *h = &s->hooks[k][i];
                        int64_t t = 0;
                        s->n_hooks[k]++;
                        if (!json_object_is_type(e, json_type_object))
                                return berr_make(err, 0, "%s: expected an object", ep);
                        if (json_get_str(e, ep, "path", true, &h->path, err) < 0 ||
                            json_get_strv(e, ep, "args", &h->args, err) < 0 ||
                            json_get_strv(e, ep, "env", &h->env, err) < 0 ||
                            json_get_int64(e, ep, "timeout", 1, INT32_MAX, &t, err) < 0)
                                return -1;
                        if (require_absolute(ep, "path", h->path, err) < 0)
                                return -1;
                        h->timeout = (int)t;
                }
        }
        return 0;
}

static int parse_namespaces(json_object *lin, struct oci_linux *l, struct berr **err)
{
        json_object *arr;
        size_t n;
        int r = json_get(lin, "linux", "namespaces", json_type_array, false, &arr, err);

        if (r <= 0)
                return r;
        n = json_object_array_length(arr);
        l->namespaces = calloc(n ? n : 1, sizeof(*l->namespaces));
        if (!l->namespaces)
                return berr_make(err, ENOMEM, "namespaces");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ep = json_path_idx("linux.namespaces", i), *type = NULL;
                json_object *e = json_object_array_get_idx(arr, i);
                struct oci_namespace *ns = &l->namespaces[i];
                int t;
                if (!json_object_is_type(e, json_type_object))
                        return berr_make(err, 0, "%s: expected an object", ep);
                if (json_get_str(e, ep, "type", true, &type, err) < 0)
                        return -1;
                t = oci_ns_from_name(type);
                if (t < 0)
                        return berr_make(err, 0, "%s.type: unknown namespace type `%s`", ep, type);
                for (size_t j = 0; j < i; j++)
                        if ((int)l->namespaces[j].type == t)
                                return berr_make(err, 0, "%s.type: duplicate namespace `%s`", ep, type);
                ns->type = (enum oci_ns_type)t;
                l->n_namespaces++;
                if (json_get_str(e, ep, "path", false, &ns->path, err) < 0)
                        return -1;
                if (ns->path && !*ns->path) {
                        free(ns->path);
                        ns->path = NULL;
                }
                if (ns->path && require_absolute(ep, "path", ns->path, err) < 0)
                        return -1;
        }
        return 0;
}

static int parse_devices(json_object *lin, struct oci_linux *l, struct berr **err)
{
        json_object *arr;
        size_t n;
        int r = json_get(lin, "linux", "devices", json_type_array, false, &arr, err);

        if (r <= 0)
                return r;
        n = json_object_array_length(arr);
        l->devices = calloc(n ? n : 1, sizeof(*l->devices));
        if (!l->devices)
                return berr_make(err, ENOMEM, "devices");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ep = json_path_idx("linux.devices", i), *type = NULL;
                json_object *e = json_object_array_get_idx(arr, i);
                struct oci_device *d = &l->devices[i];
                int64_t v;
                l->n_devices++;
                if (!json_object_is_type(e, json_type_object))
                        return berr_make(err, 0, "%s: expected an object", ep);
                if (json_get_str(e, ep, "path", true, &d->path, err) < 0 ||
                    json_get_str(e, ep, "type", true, &type, err) < 0)
                        return -1;
                if (require_absolute(ep, "path", d->path, err) < 0)
                        return -1;
                if (strlen(type) != 1 || !strchr("cbup", type[0]))
                        return berr_make(err, 0, "%s.type: unknown device type `%s` (want c, b, u or p)", ep, type);
                d->type = type[0];
                if (d->type != 'p') {
                        if (!json_object_object_get_ex(e, "major", NULL) ||
                            !json_object_object_get_ex(e, "minor", NULL))
                                return berr_make(err, 0, "%s: major and minor are required for type %c", ep,
                                                 d->type);
                        if (json_get_int64(e, ep, "major", 0, 4095, &d->major, err) < 0 ||
                            json_get_int64(e, ep, "minor", 0, 1048575, &d->minor, err) < 0)
                                return -1;
                }
                r = json_get_int64(e, ep, "fileMode", 0, 0177777, &v, err);
                if (r < 0)
                        return r;
                if ((d->has_mode = r > 0))
                        d->mode = (mode_t)v & 07777;
                r = json_get_int64(e, ep, "uid", 0, UINT32_MAX - 1, &v, err);
                if (r < 0)
                        return r;
                if ((d->has_uid = r > 0))
                        d->uid = (uint32_t)v;
                r = json_get_int64(e, ep, "gid", 0, UINT32_MAX - 1, &v, err);
                if (r < 0)
                        return r;
                if ((d->has_gid = r > 0))
                        d->gid = (uint32_t)v;
        }
        return 0;
}

static int parse_time_offsets(json_object *lin, struct oci_linux *l, struct berr **err)
{
        static const char *const clocks[] = {"monotonic", "boottime"};
        struct oci_time_offset *offs[] = {&l->monotonic, &l->boottime};
        json_object *o;
        int r = json_get(lin, "linux", "timeOffsets", json_type_object, false, &o, err);

        if (r <= 0)
                return r;
        l->has_time_offsets = true;
        json_object_object_foreach(o, key, val)
        {
                (void)val;
                if (!streq(key, "monotonic") && !streq(key, "boottime"))
                        return berr_make(err, 0, "linux.timeOffsets.%s: unknown clock (want monotonic or boottime)",
                                         key);
        }
        for (size_t i = 0; i < ARRAY_SIZE(clocks); i++) {
                _cleanup_free_ char *cp = json_path_key("linux.timeOffsets", clocks[i]);
                json_object *c;
                int64_t v = 0;
                r = json_get(o, "linux.timeOffsets", clocks[i], json_type_object, false, &c, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                if (json_get_int64(c, cp, "secs", INT64_MIN / 2, INT64_MAX / 2, &offs[i]->secs, err) < 0 ||
                    json_get_int64(c, cp, "nanosecs", 0, 999999999, &v, err) < 0)
                        return -1;
                offs[i]->nanosecs = (uint32_t)v;
        }
        return 0;
}

static int parse_personality(json_object *lin, struct oci_linux *l, struct berr **err)
{
        _cleanup_free_ char *domain = NULL;
        _cleanup_strv_free_ char **flags = NULL;
        json_object *o;
        int r = json_get(lin, "linux", "personality", json_type_object, false, &o, err);

        if (r <= 0)
                return r;
        if (json_get_str(o, "linux.personality", "domain", true, &domain, err) < 0 ||
            json_get_strv(o, "linux.personality", "flags", &flags, err) < 0)
                return -1;
        if (streq(domain, "LINUX"))
                l->personality = PER_LINUX;
        else if (streq(domain, "LINUX32"))
                l->personality = PER_LINUX32;
        else
                return berr_make(err, 0, "linux.personality.domain: unknown domain `%s` (want LINUX or LINUX32)",
                                 domain);
        if (flags && flags[0])
                return berr_make(err, 0, "linux.personality.flags: no flags are supported");
        l->has_personality = true;
        return 0;
}

static int parse_linux(json_object *obj, struct oci_spec *s, struct berr **err)
{
        struct oci_linux *l = &s->linux_;
        json_object *lin, *o;
        int r = json_get(obj, "", "linux", json_type_object, false, &lin, err);

        if (r <= 0)
                return r;
        if (parse_namespaces(lin, l, err) < 0 ||
            parse_id_maps(lin, "linux", "uidMappings", &l->uid_mappings, &l->n_uid_mappings, err) < 0 ||
            parse_id_maps(lin, "linux", "gidMappings", &l->gid_mappings, &l->n_gid_mappings, err) < 0 ||
            parse_time_offsets(lin, l, err) < 0 || parse_devices(lin, l, err) < 0 ||
            json_get_str(lin, "linux", "cgroupsPath", false, &l->cgroups_path, err) < 0 ||
            json_get_str(lin, "linux", "rootfsPropagation", false, &l->rootfs_propagation, err) < 0 ||
            json_get_strv(lin, "linux", "maskedPaths", &l->masked_paths, err) < 0 ||
            json_get_strv(lin, "linux", "readonlyPaths", &l->readonly_paths, err) < 0 ||
            json_get_str(lin, "linux", "mountLabel", false, &l->mount_label, err) < 0 ||
            json_get_str_map(lin, "linux", "sysctl", &l->sysctl, err) < 0 || parse_personality(lin, l, err) < 0)
                return -1;
        if (l->rootfs_propagation && !strempty(l->rootfs_propagation)) {
                static const char *const ok[] = {"shared", "slave", "private", "unbindable",
                                                 "rshared", "rslave", "rprivate", "runbindable"};
                size_t i;
                for (i = 0; i < ARRAY_SIZE(ok); i++)
                        if (streq(l->rootfs_propagation, ok[i]))
                                break;
                if (i == ARRAY_SIZE(ok))
                        return berr_make(err, 0, "linux.rootfsPropagation: unknown propagation `%s`",
                                         l->rootfs_propagation);
        }
        STRV_FOREACH (p, l->masked_paths)
                if (require_absolute("linux", "maskedPaths", *p, err) < 0)
                        return -1;
        STRV_FOREACH (p, l->readonly_paths)
                if (require_absolute("linux", "readonlyPaths", *p, err) < 0)
                        return -1;
        if (json_get(lin, "linux", "resources", json_type_object, false, &o, err) < 0)
                return -1;
        l->resources = o ? json_object_get(o) : NULL;
        if (json_get(lin, "linux", "seccomp", json_type_object, false, &o, err) < 0)
                return -1;
        l->seccomp = o ? json_object_get(o) : NULL;
        if (json_get(lin, "linux", "intelRdt", json_type_object, false, &o, err) < 0)
                return -1;
        l->intel_rdt = o ? json_object_get(o) : NULL;
        return 0;
}

const struct oci_namespace *oci_spec_ns(const struct oci_spec *spec, enum oci_ns_type t)
{
        for (size_t i = 0; i < spec->linux_.n_namespaces; i++)
                if (spec->linux_.namespaces[i].type == t)
                        return &spec->linux_.namespaces[i];
        return NULL;
}

/* Checks across sections, after every field parsed on its own. */
static int validate(struct oci_spec *s, struct berr **err)
{
        const struct oci_linux *l = &s->linux_;
        const struct oci_namespace *user = oci_spec_ns(s, OCI_NS_USER);
        const struct oci_namespace *time_ns = oci_spec_ns(s, OCI_NS_TIME);

        if (!user && (l->n_uid_mappings || l->n_gid_mappings))
                return berr_make(err, 0, "linux.uidMappings: mappings are set but there is no user namespace");
        if (user && !user->path && (!l->n_uid_mappings || !l->n_gid_mappings))
                return berr_make(err, 0,
                                 "linux.namespaces: a new user namespace needs linux.uidMappings and linux.gidMappings");
        if (user && user->path && (l->n_uid_mappings || l->n_gid_mappings))
                return berr_make(err, 0, "linux.uidMappings: cannot set mappings when joining a user namespace");
        if (l->has_time_offsets && (!time_ns || time_ns->path))
                return berr_make(err, 0, "linux.timeOffsets: offsets need a new time namespace");
        if (s->hostname && *s->hostname && !oci_spec_ns(s, OCI_NS_UTS))
                return berr_make(err, 0, "hostname: setting the hostname needs a uts namespace");
        if (s->domainname && *s->domainname && !oci_spec_ns(s, OCI_NS_UTS))
                return berr_make(err, 0, "domainname: setting the domainname needs a uts namespace");
        for (size_t i = 0; i < s->n_mounts; i++)
                if (s->mounts[i].uid_mappings && !(s->mounts[i].type && streq(s->mounts[i].type, "bind")) &&
                    !strv_contains(s->mounts[i].options, "bind") && !strv_contains(s->mounts[i].options, "rbind"))
                        return berr_make(err, 0, "mounts[%zu]: idmapped mounts need a bind mount", i);
        return 0;
}

int oci_spec_parse(const char *buf, size_t len, struct oci_spec **out, struct berr **err)
{
        _cleanup_spec_ struct oci_spec *s = calloc(1, sizeof(*s));
        json_object *obj, *proc;
        int r;

        if (!s)
                return berr_make(err, ENOMEM, "config.json");
        if (json_parse_buf(buf, len, "config.json", &s->raw, err) < 0)
                return -1;
        obj = s->raw;
        if (!json_object_is_type(obj, json_type_object))
                return berr_make(err, 0, "config.json: expected a JSON object");
        if (json_get_str(obj, "", "ociVersion", true, &s->oci_version, err) < 0 || parse_root(obj, s, err) < 0 ||
            json_get_str(obj, "", "hostname", false, &s->hostname, err) < 0 ||
            json_get_str(obj, "", "domainname", false, &s->domainname, err) < 0 ||
            json_get_str_map(obj, "", "annotations", &s->annotations, err) < 0 || parse_mounts(obj, s, err) < 0 ||
            parse_hooks(obj, s, err) < 0 || parse_linux(obj, s, err) < 0)
                goto fail;
        if (strncmp(s->oci_version, "1.", 2) != 0) {
                berr_make(err, 0, "ociVersion: unsupported version `%s` (want 1.x)", s->oci_version);
                goto fail;
        }
        r = json_get(obj, "", "process", json_type_object, false, &proc, err);
        if (r < 0)
                goto fail;
        if (r > 0) {
                s->has_process = true;
                if (oci_process_parse(proc, "process", &s->process, err) < 0)
                        goto fail;
        }
        if (validate(s, err) < 0)
                goto fail;
        *out = TAKE_PTR(s);
        return 0;
fail:
        return berr_wrap(err, "config.json");
}

int oci_spec_load(const char *bundle, struct oci_spec **out, struct berr **err)
{
        _cleanup_free_ char *path = path_join(bundle, "config.json"), *buf = NULL;
        size_t len;

        if (!path)
                return berr_make(err, ENOMEM, "config.json");
        if (read_file_at(AT_FDCWD, path, OCI_CONFIG_MAX, &buf, &len, err) < 0)
                return -1;
        return oci_spec_parse(buf, len, out, err);
}

void oci_process_done(struct oci_process *p)
{
        free(p->user.additional_gids);
        strv_free(p->args);
        strv_free(p->env);
        free(p->cwd);
        free(p->rlimits);
        free(p->apparmor_profile);
        free(p->selinux_label);
        free(p->cpu_affinity_initial);
        free(p->cpu_affinity_final);
        memset(p, 0, sizeof(*p));
}

void oci_spec_free(struct oci_spec *s)
{
        struct oci_linux *l;

        if (!s)
                return;
        l = &s->linux_;
        free(s->oci_version);
        free(s->root_path);
        oci_process_done(&s->process);
        free(s->hostname);
        free(s->domainname);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].destination);
                free(s->mounts[i].type);
                free(s->mounts[i].source);
                strv_free(s->mounts[i].options);
                free(s->mounts[i].uid_mappings);
                free(s->mounts[i].gid_mappings);
        }
        free(s->mounts);
        for (int k = 0; k < OCI_HOOK_COUNT; k++) {
                for (size_t i = 0; i < s->n_hooks[k]; i++) {
                        free(s->hooks[k][i].path);
                        strv_free(s->hooks[k][i].args);
                        strv_free(s->hooks[k][i].env);
                }
                free(s->hooks[k]);
        }
        strv_free(s->annotations);
        for (size_t i = 0; i < l->n_namespaces; i++)
                free(l->namespaces[i].path);
        free(l->namespaces);
        free(l->uid_mappings);
        free(l->gid_mappings);
        for (size_t i = 0; i < l->n_devices; i++)
                free(l->devices[i].path);
        free(l->devices);
        free(l->cgroups_path);
        json_object_put(l->resources);
        json_object_put(l->seccomp);
        json_object_put(l->intel_rdt);
        free(l->rootfs_propagation);
        strv_free(l->masked_paths);
        strv_free(l->readonly_paths);
        free(l->mount_label);
        strv_free(l->sysctl);
        json_object_put(s->raw);
        free(s);
}
