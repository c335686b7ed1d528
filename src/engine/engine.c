/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "engine.h"
#include "spec-internal.h"
#include "volume.h"

void engine_close(struct engine *e)
{
        if (!e)
                return;
        if (e->own_store)
                image_store_free(e->store);
        engine_config_done(&e->cfg);
        safe_close(e->containers_fd);
        free(e->root);
        free(e->runroot);
        free(e->config_path);
        free(e->net_state_dir);
        free(e->self_exe);
        free(e);
}

static int self_exe(const char *given, char **out, struct berr **err)
{
        char buf[PATH_MAX];
        ssize_t n;

        if (given) {
                *out = strdup(given);
                return *out ? 0 : berr_make(err, ENOMEM, "engine");
        }
        n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
        if (n < 0)
                return berr_errno(err, "readlink /proc/self/exe");
        buf[n] = '\0';
        *out = strdup(buf);
        return *out ? 0 : berr_make(err, ENOMEM, "engine");
}

int engine_open(const struct engine_open_opts *o, struct engine **out, struct berr **err)
{
        _cleanup_engine_ struct engine *e = calloc(1, sizeof(*e));
        const char *cfg = o->config ? o->config : ENGINE_DEFAULT_CONFIG;

        if (!e)
                return berr_make(err, ENOMEM, "engine");
        e->containers_fd = -1;
        e->root = path_clean(o->root ? o->root : ENGINE_DEFAULT_ROOT);
        e->runroot = path_clean(o->runroot ? o->runroot : ENGINE_DEFAULT_RUNROOT);
        e->config_path = strdup(cfg);
        if (!e->root || !e->runroot || !e->config_path)
                return berr_make(err, ENOMEM, "engine");
        if (!path_is_absolute(e->root) || !path_is_absolute(e->runroot))
                return eng_err(err, EINVAL, "--root and --runroot must be absolute paths");
        if (engine_config_load(cfg, o->config != NULL, &e->cfg, err) < 0)
                return -1;
        if (self_exe(o->self_exe, &e->self_exe, err) < 0)
                return -1;
        if (o->store) {
                e->store = o->store;
        } else {
                if (image_store_open(e->root, &e->store, err) < 0)
                        return -1;
                e->own_store = true;
        }
        e->db = e->store->db;
        sqlite3_busy_timeout(e->db, (int)e->cfg.db_busy_timeout_ms);
        /* Every berth process opens and closes the database: the last one to close
         * would checkpoint and sync the WAL each time. SQLite's auto-checkpoint
         * still bounds the WAL. */
        sqlite3_db_config(e->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        if (engine_db_migrate(e->db, err) < 0 || volume_db_migrate(e->db, err) < 0)
                return -1;
        if (mkdirat(e->store->root_fd, "containers", 0700) < 0 && errno != EEXIST)
                return berr_errno(err, "create `%s/containers`", e->root);
        e->containers_fd =
            openat(e->store->root_fd, "containers", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (e->containers_fd < 0)
                return berr_errno(err, "open `%s/containers`", e->root);
        e->net_state_dir = path_join(e->root, "network");
        if (!e->net_state_dir)
                return berr_make(err, ENOMEM, "engine");
        e->net = (struct network_env){
            .config_dir = e->cfg.network_config_dir,
            .state_dir = e->net_state_dir,
            .run_dir = e->runroot,
            .cni_path = e->cfg.cni_path,
            .default_name = e->cfg.default_network,
            .default_bridge = e->cfg.default_bridge,
            .default_subnet = e->cfg.default_subnet,
        };
        *out = TAKE_PTR(e);
        return 0;
}

void engine_runtime_choice_done(struct engine_runtime_choice *c)
{
        free(c->name);
        free(c->path);
        strv_free(c->args);
        *c = (struct engine_runtime_choice){0};
}

static bool is_executable(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *engine_find_program(const char *name)
{
        const char *path = getenv("PATH");

        if (strchr(name, '/'))
                return is_executable(name) ? strdup(name) : NULL;
        if (!path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (const char *s = path;; s++) {
                const char *end = strchrnul(s, ':');
                _cleanup_free_ char *cand = NULL;

                if (end > s && asprintf(&cand, "%.*s/%s", (int)(end - s), s, name) >= 0 &&
                    is_executable(cand))
                        return TAKE_PTR(cand);
                if (!*end)
                        return NULL;
                s = end;
        }
}

static int absolute_program(const char *found, char **out, struct berr **err)
{
        char buf[PATH_MAX];

        if (!realpath(found, buf))
                return berr_errno(err, "resolve `%s`", found);
        *out = strdup(buf);
        return *out ? 0 : berr_make(err, ENOMEM, "runtime");
}

int engine_runtime_resolve(const struct engine *e, const char *arg, struct engine_runtime_choice *out,
                           struct berr **err)
{
        const struct engine_runtime *rt = NULL;
        _cleanup_free_ char *found = NULL;

        *out = (struct engine_runtime_choice){0};
        if (!arg)
                arg = e->cfg.default_runtime;
        if (!*arg)
                return eng_err(err, EINVAL, "--runtime: empty name");
        if (strchr(arg, '/')) {
                const char *base = strrchr(arg, '/') + 1;
                if (!*base || streq(base, ".") || streq(base, ".."))
                        return eng_err(err, EINVAL, "--runtime: `%s` is not a program", arg);
                if (!is_executable(arg))
                        return eng_err(err, ENOENT, "--runtime: `%s` is not an executable file", arg);
                out->name = strdup(base);
                if (!out->name || absolute_program(arg, &out->path, err) < 0) {
                        engine_runtime_choice_done(out);
                        return berr_make(err, ENOMEM, "runtime");
                }
                return 0;
        }
        for (size_t i = 0; i < e->cfg.n_runtimes; i++)
                if (streq(e->cfg.runtimes[i].name, arg))
                        rt = &e->cfg.runtimes[i];
        if (!rt) {
                _cleanup_free_ char *names = NULL;
                size_t len = 0;
                for (size_t i = 0; i < e->cfg.n_runtimes; i++)
                        len += strlen(e->cfg.runtimes[i].name) + 2;
                names = calloc(1, len + 1);
                for (size_t i = 0; names && i < e->cfg.n_runtimes; i++)
                        sprintf(names + strlen(names), "%s%s", i ? ", " : "", e->cfg.runtimes[i].name);
                return eng_err(err, ENOENT, "unknown OCI runtime `%s` (configured: %s; or give a path)", arg,
                               names ? names : "?");
        }
        STRV_FOREACH (p, rt->paths) {
                found = engine_find_program(*p);
                if (found)
                        break;
        }
        if (!found)
                return eng_err(err, ENOENT, "OCI runtime `%s` not found (looked for %s%s)", arg, rt->paths[0],
                               rt->paths[1] ? " and the other configured paths" : " in $PATH");
        out->name = strdup(rt->name);
        if (!out->name || absolute_program(found, &out->path, err) < 0) {
                engine_runtime_choice_done(out);
                return out->name ? -1 : berr_make(err, ENOMEM, "runtime");
        }
        STRV_FOREACH (a, rt->args)
                if (strv_extend(&out->args, *a) < 0) {
                        engine_runtime_choice_done(out);
                        return berr_make(err, ENOMEM, "runtime");
                }
        return 0;
}

char *engine_container_dir(const struct engine *e, const char *id)
{
        char *p;
        return asprintf(&p, "%s/containers/%s", e->root, id) < 0 ? NULL : p;
}

char *engine_state_dir(const struct engine *e, const char *id)
{
        char *p;
        return asprintf(&p, "%s/containers/%s", e->runroot, id) < 0 ? NULL : p;
}

char *engine_runtime_root(const struct engine *e, const char *runtime_name)
{
        char *p;
        return asprintf(&p, "%s/runtime/%s", e->runroot, runtime_name) < 0 ? NULL : p;
}

char *engine_netns_name(const char *id)
{
        char *p;
        /* Short enough for `ip netns` listings, unique enough with 24 hex digits. */
        return asprintf(&p, "berth-%.24s", id) < 0 ? NULL : p;
}

int engine_container_lock(const struct engine *e, const char *id, bool wait, struct berr **err)
{
        _cleanup_close_ int fd =
            openat(e->containers_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0) {
                if (errno == ENOENT)
                        return eng_err(err, ENOENT, "container %s: its directory is gone", id);
                return berr_errno(err, "open `%s/containers/%s`", e->root, id);
        }
        while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
                if (errno == EINTR)
                        continue;
                if (errno == EWOULDBLOCK)
                        return eng_err(err, EBUSY, "container %.12s is busy", id);
                return berr_errno(err, "lock container %.12s", id);
        }
        return TAKE_FD(fd);
}
