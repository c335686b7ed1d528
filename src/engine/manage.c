/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "events.h"
#include "image/snapshot.h"
#include "image/store.h"
#include "launch.h"
#include "lifecycle.h"
#include "manage.h"
#include "monitor/ctrlog.h"
#include "monitor/server.h"
#include "spec-internal.h"

#define CONFIG_JSON_MAX (4u << 20)

static int status_of(struct engine *e, const struct container *c, struct container_state *st,
                     struct berr **err)
{
        return container_state_derive(e, c, st, err);
}

/* ---- rename --------------------------------------------------------------------------- */

int engine_container_rename(struct engine *e, const struct container *c, const char *name, struct berr **err)
{
        char old[300];

        if (name[0] == '/')
                name++;
        if (streq(name, c->name))
                return eng_err(err, EINVAL, "renaming a container with the same name as its current name");
        if (container_rename(e->db, c->id, name, err) < 0)
                return -1;
        snprintf(old, sizeof(old), "/%s", c->name);
        {
                struct container renamed = *c;
                renamed.name = (char *)name;
                engine_event_container(e, &renamed, "rename", (const char *const[]){"oldName", old, NULL});
        }
        return 0;
}

/* ---- pause ---------------------------------------------------------------------------- */

int engine_container_pause(struct engine *e, const struct container *c, struct berr **err)
{
        struct container_state st;
        int s;

        if (status_of(e, c, &st, err) < 0)
                return -1;
        s = st.status;
        container_state_done(&st);
        if (s == CONTAINER_PAUSED)
                return eng_err(err, EINVAL, "container %s is already paused", c->name);
        if (s != CONTAINER_RUNNING)
                return eng_err(err, EINVAL, "container %s is not running", c->name);
        if (engine_runtime_run(e, c, (const char *const[]){"pause", c->id, NULL}, err) < 0)
                return -1;
        engine_event_container(e, c, "pause", NULL);
        return 0;
}

int engine_container_unpause(struct engine *e, const struct container *c, struct berr **err)
{
        struct container_state st;
        int s;

        if (status_of(e, c, &st, err) < 0)
                return -1;
        s = st.status;
        container_state_done(&st);
        if (s != CONTAINER_PAUSED)
                return eng_err(err, EINVAL, "container %s is not paused", c->name);
        if (engine_runtime_run(e, c, (const char *const[]){"resume", c->id, NULL}, err) < 0)
                return -1;
        engine_event_container(e, c, "unpause", NULL);
        return 0;
}

/* ---- update --------------------------------------------------------------------------- */

/* RUNTIME update --resources - ID, with the resources on stdin. */
static int runtime_update(struct engine *e, const struct container *c, json_object *res, struct berr **err)
{
        _cleanup_strv_free_ char **argv =
            launch_runtime_argv(e, c, (const char *const[]){"update", "--resources", "-", c->id, NULL});
        _cleanup_close_ int in = memfd_create("berth-resources", MFD_CLOEXEC);
        const char *text = json_to_string(res, false);
        char msg[1024];
        int status, r;

        if (!argv)
                return berr_make(err, ENOMEM, "update");
        if (in < 0)
                return berr_errno(err, "update: memfd");
        r = write_all(in, text, strlen(text));
        if (r < 0 || lseek(in, 0, SEEK_SET) < 0)
                return berr_make(err, r < 0 ? -r : errno, "update: write the resources");
        if (launch_wait_capture(argv, in, &status, msg, sizeof(msg), err) < 0)
                return -1;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        return eng_err(err, EIO, "`%s update` failed%s%s", c->runtime, *msg ? ": " : "", msg);
}

struct update_field {
        const char *key; /* in the stored run options */
        size_t off;      /* in engine_update_opts and engine_run_opts alike */
        const char *section;
};

#define F(k, f, s)                                                                                           \
        {                                                                                                    \
                k, offsetof(struct engine_update_opts, f), s                                                 \
        }
static const struct update_field update_fields[] = {
    F("memory", memory, "memory"),          F("memoryReservation", memory_reservation, "memory"),
    F("memorySwap", memory_swap, "memory"), F("cpus", cpus, "cpu"),
    F("cpuShares", cpu_shares, "cpu"),      F("cpuQuota", cpu_quota, "cpu"),
    F("cpuPeriod", cpu_period, "cpu"),      F("cpusetCpus", cpuset_cpus, "cpu"),
    F("cpusetMems", cpuset_mems, "cpu"),    F("pidsLimit", pids_limit, "pids"),
};
#undef F

static const char *update_value(const struct engine_update_opts *o, const struct update_field *f)
{
        return *(const char *const *)((const char *)o + f->off);
}

/* The run option field of engine_run_opts with the same name. */
static const char **run_field(struct engine_run_opts *r, const char *key)
{
#define M(k, f)                                                                                              \
        if (streq(key, k))                                                                                   \
                return &r->f;
        M("memory", memory)
        M("memoryReservation", memory_reservation)
        M("memorySwap", memory_swap)
        M("cpus", cpus)
        M("cpuShares", cpu_shares)
        M("cpuQuota", cpu_quota)
        M("cpuPeriod", cpu_period)
        M("cpusetCpus", cpuset_cpus)
        M("cpusetMems", cpuset_mems)
        M("pidsLimit", pids_limit)
#undef M
        return NULL;
}

static int read_spec(const char *path, json_object **out, struct berr **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;

        if (read_file_at(AT_FDCWD, path, CONFIG_JSON_MAX, &buf, &len, err) < 0)
                return -1;
        return json_parse_buf(buf, len, path, out, err);
}

int engine_container_update(struct engine *e, const struct container *c, const struct engine_update_opts *o,
                            struct berr **err)
{
        _cleanup_(engine_run_opts_holder_done) struct engine_run_opts_holder h = {0};
        _cleanup_container_ struct container *cur = NULL;
        _cleanup_free_ char *dir = engine_container_dir(e, c->id), *path = NULL;
        _cleanup_close_ int lock = -1;
        json_object *res = NULL, *delta = NULL, *spec = NULL, *lin, *sres, *run;
        struct container_state st;
        bool sections[3] = {false}, any = false;
        static const char *const names[3] = {"memory", "cpu", "pids"};
        int r, ret = -1;

        if (!dir || !(path = path_join(dir, "config.json")))
                return berr_make(err, ENOMEM, "update");
        if (o->restart) {
                struct restart_policy rp;
                if (restart_policy_parse(o->restart, &rp, NULL) < 0)
                        return eng_err(err, EINVAL,
                                       "--restart: invalid policy `%s` (no, on-failure[:N], always)",
                                       o->restart);
                if (rp.mode != RESTART_NO && container_cfg_bool(c, "rm"))
                        return eng_err(
                            err, EINVAL,
                            "restart policy cannot be updated because AutoRemove is enabled for the "
                            "container");
        }
        /* Under the lock, on the current record: start reads the bundle, others may update too. */
        lock = engine_container_lock(e, c->id, true, err);
        if (lock < 0)
                return -1;
        r = container_get(e->db, c->id, &cur, err);
        if (r <= 0)
                return r < 0 ? -1 : eng_err(err, ENOENT, "no such container: %s", c->name);
        if (engine_run_opts_from_json(container_cfg(cur, "runOpts"), &h, err) < 0)
                return -1;
        for (size_t i = 0; i < ARRAY_SIZE(update_fields); i++) {
                const char *v = update_value(o, &update_fields[i]);
                if (!v)
                        continue;
                *run_field(&h.opts, update_fields[i].key) = v;
                for (size_t s = 0; s < ARRAY_SIZE(names); s++)
                        if (streq(update_fields[i].section, names[s]))
                                sections[s] = any = true;
        }
        res = json_object_new_object();
        delta = json_object_new_object();
        if (!res || !delta) {
                berr_make(err, ENOMEM, "update");
                goto out;
        }
        if (engine_spec_resources(&h.opts, res, err) < 0)
                goto out;
        if (any) {
                for (size_t s = 0; s < ARRAY_SIZE(names); s++) {
                        json_object *v = json_object_object_get(res, names[s]);
                        if (sections[s] && v)
                                json_object_object_add(delta, names[s], json_object_get(v));
                }
                if (status_of(e, cur, &st, err) < 0)
                        goto out;
                r = st.status == CONTAINER_RUNNING || st.status == CONTAINER_PAUSED;
                container_state_done(&st);
                if (r && json_object_object_length(delta) > 0 && runtime_update(e, cur, delta, err) < 0)
                        goto out;
                /* The bundle, for the next start and for inspect. */
                if (read_spec(path, &spec, err) < 0)
                        goto out;
                lin = json_object_object_get(spec, "linux");
                if (!json_object_object_get_ex(lin, "resources", &sres) || !sres) {
                        sres = json_object_new_object();
                        json_object_object_add(lin, "resources", sres);
                }
                for (size_t s = 0; s < ARRAY_SIZE(names); s++) {
                        json_object *v = json_object_object_get(res, names[s]);
                        if (!sections[s])
                                continue;
                        if (v)
                                json_object_object_add(sres, names[s], json_object_get(v));
                        else
                                json_object_object_del(sres, names[s]);
                }
                {
                        const char *text = json_to_string(spec, true);
                        if (write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0600, err) < 0)
                                goto out;
                }
        }
        /* What was typed, as create keeps it. */
        run = container_cfg(cur, "runOpts");
        for (size_t i = 0; i < ARRAY_SIZE(update_fields); i++) {
                const char *v = update_value(o, &update_fields[i]);
                if (v)
                        json_object_object_add(run, update_fields[i].key, json_object_new_string(v));
        }
        if (o->restart)
                json_object_object_add(cur->config, "restart", json_object_new_string(o->restart));
        if (container_update_config(e->db, cur->id, cur->config, err) < 0)
                goto out;
        engine_event_container(e, cur, "update", NULL);
        ret = 0;
out:
        if (spec)
                json_object_put(spec);
        if (res)
                json_object_put(res);
        if (delta)
                json_object_put(delta);
        return ret;
}

/* ---- prune ---------------------------------------------------------------------------- */

int engine_prune_filter_add(struct engine_prune_filter *f, const char *spec, int64_t now_ns,
                            struct berr **err)
{
        const char *eq = strchr(spec, '=');

        if (!eq || eq == spec || !eq[1])
                return eng_err(err, EINVAL, "bad format of filter (expected name=value): `%s`", spec);
        if (strneq(spec, "until=", 6))
                return ctrlog_parse_since(eq + 1, now_ns, &f->until_ns, err) < 0
                           ? berr_wrap(err, "filter until")
                           : 0;
        if (strneq(spec, "label=", 6))
                return strv_extend(&f->labels, eq + 1) < 0 ? berr_make(err, ENOMEM, "filter") : 0;
        if (strneq(spec, "label!=", 7))
                return strv_extend(&f->not_labels, spec + 7) < 0 ? berr_make(err, ENOMEM, "filter") : 0;
        return eng_err(err, EINVAL, "invalid filter `%.*s` (until, label, label!)", (int)(eq - spec), spec);
}

void engine_prune_filter_done(struct engine_prune_filter *f)
{
        strv_free(f->labels);
        strv_free(f->not_labels);
        *f = (struct engine_prune_filter){0};
}

static bool has_label(const struct container *c, const char *spec)
{
        json_object *labels = container_cfg(c, "labels"), *v;
        const char *eq = strchr(spec, '=');
        _cleanup_free_ char *key = eq ? strndup(spec, (size_t)(eq - spec)) : strdup(spec);

        if (!key || !json_object_object_get_ex(labels, key, &v))
                return false;
        return !eq || streq(json_object_get_string(v), eq + 1);
}

static bool prune_match(const struct engine_prune_filter *f, const struct container *c)
{
        if (!f)
                return true;
        if (f->until_ns && c->created_ns >= f->until_ns)
                return false;
        STRV_FOREACH (l, f->labels)
                if (!has_label(c, *l))
                        return false;
        STRV_FOREACH (l, f->not_labels)
                if (has_label(c, *l))
                        return false;
        return true;
}

static uint64_t layer_usage(struct engine *e, const char *id)
{
        _cleanup_free_ char *upper = snapshot_rw_upper(e->store, id);
        _cleanup_close_ int fd = upper ? open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;

        return fd >= 0 ? dir_disk_usage(fd) : 0;
}

int engine_containers_prune(struct engine *e, const struct engine_prune_filter *f, char ***removed,
                            uint64_t *reclaimed, struct berr **err)
{
        struct container **v = NULL;
        struct berr *first = NULL;
        size_t n = 0;

        *removed = calloc(1, sizeof(char *));
        *reclaimed = 0;
        if (!*removed)
                return berr_make(err, ENOMEM, "prune");
        if (container_list(e->db, &v, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                struct container_state st;
                struct berr *e2 = NULL;
                uint64_t size;
                int s;

                if (!prune_match(f, v[i]) || status_of(e, v[i], &st, &e2) < 0) {
                        berr_freep(&e2);
                        continue;
                }
                s = st.status;
                container_state_done(&st);
                if (s == CONTAINER_RUNNING || s == CONTAINER_PAUSED || s == CONTAINER_RESTARTING ||
                    s == CONTAINER_REMOVING ||
                    (s == CONTAINER_CREATED && v[i]->phase == CONTAINER_PHASE_STARTED))
                        continue;
                size = layer_usage(e, v[i]->id);
                /* Without force: one that started meanwhile is refused and stays. */
                if (engine_container_remove(e, v[i]->id, false, false, &e2) < 0) {
                        if (!first)
                                first = e2;
                        else
                                berr_freep(&e2);
                        continue;
                }
                *reclaimed += size;
                if (strv_extend(removed, v[i]->id) < 0) {
                        container_freev(v, n);
                        berr_freep(&first);
                        return berr_make(err, ENOMEM, "prune");
                }
        }
        container_freev(v, n);
        if (first) {
                berr_move(err, &first);
                return -1;
        }
        return 0;
}
