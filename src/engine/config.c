/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /etc/berth/berth.conf: a JSON object (json-c parses it; Debian ships no C
 * TOML library, and podman's containers.conf keys would only be half meant).
 * docs/ENGINE.md documents the keys. Unknown keys are errors, so a typo is
 * never silently ignored.
 */
#include <fcntl.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "engine.h"
#include "spec-internal.h"

/* Built-in runtimes; the file's entries replace these by name. */
static const char *const builtin_runtimes[] = {"berth-runtime", "runc", "crun", "runsc"};
static const char *const builtin_dirs[] = {
    "/usr/local/bin", "/usr/local/sbin", "/usr/bin", "/usr/sbin", "/bin", "/sbin"};

static void runtime_done(struct engine_runtime *r)
{
        free(r->name);
        strv_free(r->paths);
        strv_free(r->args);
}

void engine_config_done(struct engine_config *c)
{
        free(c->default_runtime);
        for (size_t i = 0; i < c->n_runtimes; i++)
                runtime_done(&c->runtimes[i]);
        free(c->runtimes);
        free(c->monitor_path);
        free(c->log_driver);
        free(c->seccomp_profile);
        free(c->init_path);
        free(c->cgroup_parent);
        free(c->network_config_dir);
        free(c->cni_path);
        free(c->default_network);
        free(c->default_bridge);
        free(c->default_subnet);
        *c = (struct engine_config){0};
}

static struct engine_runtime *runtime_slot(struct engine_config *c, const char *name, struct berr **err)
{
        struct engine_runtime *n;

        for (size_t i = 0; i < c->n_runtimes; i++)
                if (streq(c->runtimes[i].name, name)) {
                        strv_free(c->runtimes[i].paths);
                        strv_free(c->runtimes[i].args);
                        c->runtimes[i].paths = c->runtimes[i].args = NULL;
                        return &c->runtimes[i];
                }
        if (c->n_runtimes >= ENGINE_RUNTIMES_MAX) {
                eng_err(err, E2BIG, "more than %d runtimes", ENGINE_RUNTIMES_MAX);
                return NULL;
        }
        n = realloc(c->runtimes, (c->n_runtimes + 1) * sizeof(*n));
        if (!n) {
                berr_make(err, ENOMEM, "runtimes");
                return NULL;
        }
        c->runtimes = n;
        n = &c->runtimes[c->n_runtimes];
        *n = (struct engine_runtime){.name = strdup(name)};
        if (!n->name) {
                berr_make(err, ENOMEM, "runtimes");
                return NULL;
        }
        c->n_runtimes++;
        return n;
}

static int defaults(struct engine_config *c, struct berr **err)
{
        c->default_runtime = strdup(ENGINE_DEFAULT_RUNTIME);
        c->log_driver = strdup("k8s-file");
        c->stop_timeout = 10;
        c->db_busy_timeout_ms = 60000;
        if (!c->default_runtime || !c->log_driver)
                return berr_make(err, ENOMEM, "configuration");
        for (size_t i = 0; i < ARRAY_SIZE(builtin_runtimes); i++) {
                struct engine_runtime *r = runtime_slot(c, builtin_runtimes[i], err);
                if (!r)
                        return -1;
                /* The bare name first: $PATH decides, as a user's shell would. */
                if (strv_extend(&r->paths, builtin_runtimes[i]) < 0)
                        return berr_make(err, ENOMEM, "runtimes");
                for (size_t d = 0; d < ARRAY_SIZE(builtin_dirs); d++)
                        if (strv_push(&r->paths, path_join(builtin_dirs[d], builtin_runtimes[i])) < 0)
                                return berr_make(err, ENOMEM, "runtimes");
        }
        return 0;
}

static int get_strv_nonempty(json_object *o, const char *path, const char *key, char ***out,
                             struct berr **err)
{
        int r = json_get_strv(o, path, key, out, err);

        if (r < 0)
                return r;
        STRV_FOREACH (s, *out)
                if (!**s)
                        return eng_err(err, EINVAL, "%s.%s: empty string", path, key);
        return r;
}

static int parse_runtimes(json_object *tab, const char *what, struct engine_config *c, struct berr **err)
{
        json_object_object_foreach (tab, name, v) {
                _cleanup_free_ char *path = NULL;
                struct engine_runtime *r;

                if (asprintf(&path, "%s: runtimes.%s", what, name) < 0)
                        return berr_make(err, ENOMEM, "configuration");
                if (!*name || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                        return eng_err(err, EINVAL, "%s: not a runtime name", path);
                r = runtime_slot(c, name, err);
                if (!r)
                        return -1;
                if (json_object_is_type(v, json_type_array)) {
                        json_object *wrap = json_object_new_object();
                        int rc;
                        json_object_object_add(wrap, "paths", json_object_get(v));
                        rc = get_strv_nonempty(wrap, path, "paths", &r->paths, err);
                        json_object_put(wrap);
                        if (rc < 0)
                                return rc;
                } else if (json_object_is_type(v, json_type_object)) {
                        json_object_object_foreach (v, k, unused) {
                                (void)unused;
                                if (!streq(k, "paths") && !streq(k, "args"))
                                        return eng_err(err, EINVAL, "%s: unknown key `%s`", path, k);
                        }
                        if (get_strv_nonempty(v, path, "paths", &r->paths, err) < 0 ||
                            json_get_strv(v, path, "args", &r->args, err) < 0)
                                return -1;
                } else {
                        return eng_err(err, EINVAL,
                                       "%s: want an array of paths or {\"paths\": [...], \"args\": [...]}",
                                       path);
                }
                if (!r->paths || !r->paths[0])
                        return eng_err(err, EINVAL, "%s: no paths", path);
        }
        return 0;
}

static int get_string(json_object *o, const char *what, const char *key, char **out, struct berr **err)
{
        _cleanup_free_ char *s = NULL;
        int r = json_get_str(o, what, key, false, &s, err);

        if (r <= 0)
                return r;
        if (!*s)
                return eng_err(err, EINVAL, "%s: %s must not be empty", what, key);
        free(*out);
        *out = TAKE_PTR(s);
        return 1;
}

static int parse_network(json_object *o, const char *what, struct engine_config *c, struct berr **err)
{
        static const char *const keys[] = {"configDir", "cniPath", "defaultNetwork", "defaultBridge",
                                           "defaultSubnet"};
        char **slots[] = {&c->network_config_dir, &c->cni_path, &c->default_network, &c->default_bridge,
                          &c->default_subnet};
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s: network", what) < 0)
                return berr_make(err, ENOMEM, "configuration");
        json_object_object_foreach (o, k, unused) {
                bool known = false;
                (void)unused;
                for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                        known |= streq(k, keys[i]);
                if (!known)
                        return eng_err(err, EINVAL, "%s: unknown key `%s`", path, k);
        }
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                if (get_string(o, path, keys[i], slots[i], err) < 0)
                        return -1;
        return 0;
}

int engine_config_parse(const char *buf, size_t len, const char *what, struct engine_config *c,
                        struct berr **err)
{
        static const char *const keys[] = {"runtime",    "runtimes",    "monitorPath",   "logDriver",
                                           "logSizeMax", "stopTimeout", "dbBusyTimeout", "seccompProfile",
                                           "initPath",   "network",     "cgroupParent"};
        json_object *o = NULL, *v;
        int64_t n;
        int r = -1;

        *c = (struct engine_config){0};
        if (defaults(c, err) < 0 || json_parse_buf(buf, len, what, &o, err) < 0)
                goto out;
        if (!json_object_is_type(o, json_type_object)) {
                eng_err(err, EINVAL, "%s: want a JSON object", what);
                goto out;
        }
        json_object_object_foreach (o, k, unused) {
                bool known = false;
                (void)unused;
                for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                        known |= streq(k, keys[i]);
                if (!known) {
                        eng_err(err, EINVAL, "%s: unknown key `%s`", what, k);
                        goto out;
                }
        }
        if (json_get(o, what, "runtimes", json_type_object, false, &v, err) < 0 ||
            (v && parse_runtimes(v, what, c, err) < 0))
                goto out;
        if (get_string(o, what, "runtime", &c->default_runtime, err) < 0 ||
            get_string(o, what, "monitorPath", &c->monitor_path, err) < 0 ||
            get_string(o, what, "logDriver", &c->log_driver, err) < 0 ||
            get_string(o, what, "seccompProfile", &c->seccomp_profile, err) < 0 ||
            get_string(o, what, "initPath", &c->init_path, err) < 0 ||
            get_string(o, what, "cgroupParent", &c->cgroup_parent, err) < 0)
                goto out;
        if (!streq(c->log_driver, "k8s-file") && !streq(c->log_driver, "json-file") &&
            !streq(c->log_driver, "none")) {
                eng_err(err, EINVAL, "%s: logDriver `%s` is not k8s-file, json-file or none", what,
                        c->log_driver);
                goto out;
        }
        if (json_get_int64(o, what, "logSizeMax", 0, INT64_MAX, &n, err) < 0)
                goto out;
        if (json_object_object_get_ex(o, "logSizeMax", NULL))
                c->log_size_max = (uint64_t)n;
        if (json_get_int64(o, what, "stopTimeout", 0, 24 * 3600, &n, err) < 0)
                goto out;
        if (json_object_object_get_ex(o, "stopTimeout", NULL))
                c->stop_timeout = (unsigned)n;
        if (json_get_int64(o, what, "dbBusyTimeout", 0, 3600 * 1000, &n, err) < 0)
                goto out;
        if (json_object_object_get_ex(o, "dbBusyTimeout", NULL))
                c->db_busy_timeout_ms = (unsigned)n;
        if (json_get(o, what, "network", json_type_object, false, &v, err) < 0 ||
            (v && parse_network(v, what, c, err) < 0))
                goto out;
        r = 0;
out:
        if (o)
                json_object_put(o);
        if (r < 0)
                engine_config_done(c);
        return r;
}

int engine_config_load(const char *path, bool required, struct engine_config *c, struct berr **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT && !required)
                        return engine_config_parse("{}", 2, path, c, err);
                return berr_errno(err, "configuration `%s`", path);
        }
        if (read_all_fd(fd, ENGINE_CONFIG_MAX, &buf, &len, err) < 0) {
                close(fd);
                return berr_wrap(err, "configuration `%s`", path);
        }
        close(fd);
        return engine_config_parse(buf, len, path, c, err);
}
