/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "events.h"
#include "image/images.h"
#include "image/manifest.h"
#include "image/snapshot.h"
#include "launch.h"
#include "lifecycle.h"
#include "monitor/server.h"
#include "spec-internal.h"
#include "volume.h"

#define USERDATA "userdata"
#define LOG_FILE "ctr.log"

json_object *container_cfg(const struct container *c, const char *key)
{
        json_object *v = NULL;
        return c->config && json_object_object_get_ex(c->config, key, &v) ? v : NULL;
}

const char *container_cfg_str(const struct container *c, const char *key)
{
        json_object *v = container_cfg(c, key);
        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

bool container_cfg_bool(const struct container *c, const char *key)
{
        return json_object_get_boolean(container_cfg(c, key));
}

int64_t container_cfg_int(const struct container *c, const char *key, int64_t def)
{
        json_object *v = container_cfg(c, key);
        return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : def;
}

int engine_exit_code_for(const char *msg)
{
        if (!msg)
                return 125;
        if (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory") ||
            strstr(msg, "No such file or directory"))
                return 127;
        if (strstr(msg, "permission denied") || strstr(msg, "Permission denied") ||
            strstr(msg, "Is a directory") || strstr(msg, "is a directory"))
                return 126;
        return 125;
}

int engine_pull_policy_parse(const char *s, enum engine_pull_policy *out, struct berr **err)
{
        if (!s || streq(s, "missing") || streq(s, "newer")) {
                *out = ENGINE_PULL_MISSING;
                return 0;
        }
        if (streq(s, "always")) {
                *out = ENGINE_PULL_ALWAYS;
                return 0;
        }
        if (streq(s, "never")) {
                *out = ENGINE_PULL_NEVER;
                return 0;
        }
        return eng_err(err, EINVAL, "--pull: invalid policy `%s` (missing, always, never)", s);
}

/* ---- create ------------------------------------------------------------------------ */

static int resolve_image(struct engine *e, const struct engine_create_opts *o, char **id, struct berr **err)
{
        enum engine_pull_policy policy;
        struct pull_opts po = {.reg.tls_verify = -1};
        int r;

        if (engine_pull_policy_parse(o->pull, &policy, err) < 0)
                return -1;
        if (policy != ENGINE_PULL_ALWAYS) {
                r = images_resolve(e->store, o->image, id, err);
                if (r != 0)
                        return r < 0 ? -1 : 0;
                if (policy == ENGINE_PULL_NEVER)
                        return eng_err(err, ENOENT, "%s: image not known", o->image);
        }
        if (o->pull_opts)
                po = *o->pull_opts;
        if (o->platform)
                po.platform = o->platform;
        if (image_pull(e->store, o->image, &po, id, err) < 0) {
                if (policy == ENGINE_PULL_ALWAYS)
                        return berr_wrap(err, "pull %s", o->image);
                return berr_wrap(err, "%s: image not known, and pulling it failed", o->image);
        }
        return 0;
}

static int load_image_config(struct engine *e, const char *id, struct image_config **out, struct berr **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;

        if (store_blob_read(e->store, id, CONFIG_MAX_SIZE, &buf, &len, err) < 0 ||
            image_config_parse(buf, len, out, err) < 0)
                return berr_wrap(err, "image %s", id);
        return 0;
}

static int parse_log_opts(const struct engine *e, const struct engine_create_opts *o, json_object *cfg,
                          struct berr **err)
{
        const char *driver = o->log_driver ? o->log_driver : e->cfg.log_driver;
        enum ctrlog_driver d;
        int64_t size_max = (int64_t)e->cfg.log_size_max, max_files = 1;

        /* docker's name for its default driver is json-file, podman's k8s-file: both are known. */
        if (ctrlog_parse_driver(driver, &d) < 0)
                return eng_err(err, EINVAL, "--log-driver: unknown driver `%s` (k8s-file, json-file, none)",
                               driver);
        for (const char *const *l = o->log_opts; l && *l; l++) {
                const char *v = strchr(*l, '=');
                if (!v)
                        return eng_err(err, EINVAL, "--log-opt: `%s` is not KEY=VALUE", *l);
                v++;
                if (strneq(*l, "max-size=", 9)) {
                        if (engine_parse_size("--log-opt max-size", v, &size_max, err) < 0)
                                return -1;
                } else if (strneq(*l, "max-file=", 9)) {
                        if (engine_parse_int("--log-opt max-file", v, 1, CTRLOG_MAX_FILES, &max_files, err) <
                            0)
                                return -1;
                } else {
                        return eng_err(err, EINVAL, "--log-opt: unknown option `%.*s` (max-size, max-file)",
                                       (int)(v - 1 - *l), *l);
                }
        }
        json_object_object_add(cfg, "logDriver", json_object_new_string(ctrlog_driver_name(d)));
        json_object_object_add(cfg, "logSizeMax", json_object_new_int64(size_max));
        json_object_object_add(cfg, "logMaxFiles", json_object_new_int64(max_files));
        return 0;
}

/* What docker shows as Config.Entrypoint and Config.Cmd. */
static void entrypoint_cmd_json(const struct image_config *img, const struct engine_run_opts *o,
                                json_object *cfg)
{
        json_object *ep, *cmd;

        if (o->entrypoint)
                ep = *o->entrypoint ? engine_json_strv((const char *const[]){o->entrypoint, NULL})
                                    : json_object_new_array();
        else
                ep = img->entrypoint ? engine_json_strv((const char *const *)img->entrypoint) : NULL;
        if (o->cmd && o->cmd[0])
                cmd = engine_json_strv(o->cmd);
        else if (o->entrypoint)
                cmd = NULL;
        else
                cmd = img->cmd ? engine_json_strv((const char *const *)img->cmd) : NULL;
        json_object_object_add(cfg, "entrypoint", ep);
        json_object_object_add(cfg, "cmd", cmd);
}

/* --network/--pid/--ipc container:X -> X's namespace while it runs. */
static int container_ns_path(struct engine *e, const char *flag, const char *mode, const char *ns,
                             char **path_out, char **userdata_out, struct berr **err)
{
        _cleanup_container_ struct container *x = NULL;
        struct container_state st = {0};
        int r;

        if (!mode || !strneq(mode, "container:", 10))
                return 0;
        r = container_lookup(e->db, mode + 10, &x, err);
        if (r <= 0)
                return r < 0 ? -1 : eng_err(err, ENOENT, "%s: no such container `%s`", flag, mode + 10);
        if (container_state_derive(e, x, &st, err) < 0)
                return -1;
        r = st.status == CONTAINER_RUNNING || st.status == CONTAINER_PAUSED;
        if (r && asprintf(path_out, "/proc/%d/ns/%s", (int)st.pid, ns) < 0)
                r = -1;
        container_state_done(&st);
        if (r == 0)
                return eng_err(err, EINVAL, "%s: container %s is not running", flag, x->name);
        if (r < 0)
                return berr_make(err, ENOMEM, "%s", flag);
        if (userdata_out && asprintf(userdata_out, "%s/containers/%s/" USERDATA, e->root, x->id) < 0)
                return berr_make(err, ENOMEM, "%s", flag);
        return 0;
}

/* "1.2.0", "1.0.2-dev" -> comparable number (the suffix sorts before the release, as in semver). */
static long version_rank(const char *v)
{
        unsigned a = 0, b = 0, c = 0;
        int n = 0;

        if (sscanf(v, "%u.%u.%u%n", &a, &b, &c, &n) < 3)
                return -1;
        return ((long)a * 1000 + b) * 1000 * 2 + (long)c * 2 + (v[n] == '-' ? 0 : 1);
}

/*
 * Runtimes older than the spec version berth writes may refuse it (crun 1.8
 * does); the features command (runc >= 1.1, berth-runtime) says the highest
 * one a runtime takes, and a runtime without it is taken to predate 1.1.
 */
static int fit_oci_version(const struct engine_runtime_choice *rt, json_object *config, struct berr **err)
{
        _cleanup_strv_free_ char **argv = NULL;
        const char *have = json_object_get_string(json_object_object_get(config, "ociVersion"));
        const char *max = "1.0.2-dev";
        json_object *features = NULL;
        _cleanup_free_ char *out = NULL;
        int fds[2], status;
        size_t len = 0;
        pid_t pid;

        if (streq(rt->name, ENGINE_DEFAULT_RUNTIME) || !have)
                return 0;
        if (strv_extend(&argv, rt->path) < 0)
                return berr_make(err, ENOMEM, "runtime features");
        STRV_FOREACH (a, rt->args)
                if (strv_extend(&argv, *a) < 0)
                        return berr_make(err, ENOMEM, "runtime features");
        if (strv_extend(&argv, "features") < 0 || pipe2(fds, O_CLOEXEC) < 0)
                return berr_make(err, ENOMEM, "runtime features");
        pid = fork();
        if (pid == 0) {
                int null_fd = open("/dev/null", O_RDWR);
                dup2(null_fd, 0);
                dup2(fds[1], 1);
                dup2(null_fd, 2);
                execv(argv[0], argv);
                _exit(127);
        }
        close(fds[1]);
        if (pid > 0) {
                out = malloc(65536);
                while (out && len < 65535) {
                        ssize_t n = read(fds[0], out + len, 65535 - len);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                break;
                        len += (size_t)n;
                }
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                if (out && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                    json_parse_buf(out, len, "runtime features", &features, NULL) == 0) {
                        json_object *m = json_object_object_get(features, "ociVersionMax");
                        if (json_object_is_type(m, json_type_string))
                                max = json_object_get_string(m);
                }
        }
        close(fds[0]);
        if (version_rank(max) >= 0 && version_rank(max) < version_rank(have))
                json_object_object_add(config, "ociVersion", json_object_new_string(max));
        if (features)
                json_object_put(features);
        return 0;
}

struct create_state {
        struct engine *e;
        char id[65];
        bool dir, record, layer, volumes;
};

static void create_undo(struct create_state *cs)
{
        _cleanup_berr_ struct berr *e = NULL;

        if (cs->volumes && volume_release(cs->e->db, cs->e->root, cs->id, true, NULL, &e) < 0)
                berr_freep(&e);
        if (cs->layer && snapshot_rw_remove(cs->e->store, cs->id, &e) < 0)
                berr_freep(&e);
        if (cs->dir && rm_rf_at(cs->e->containers_fd, cs->id, &e) < 0)
                berr_freep(&e);
        if (cs->record && container_delete(cs->e->db, cs->id, &e) < 0)
                berr_freep(&e);
}

static int validate_create(const struct engine *e, const struct engine_create_opts *o, struct berr **err)
{
        struct restart_policy rp;
        int64_t v;

        (void)e;
        if (!o->image || !*o->image)
                return eng_err(err, EINVAL, "no image given");
        if (o->name && !container_name_valid(o->name))
                return eng_err(err, EINVAL,
                               "invalid container name \"%s\", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                               o->name);
        if (restart_policy_parse(o->restart ? o->restart : "no", &rp, err) < 0)
                return eng_err(err, EINVAL, "--restart: invalid policy `%s` (no, on-failure[:N], always)",
                               o->restart);
        if (o->rm && rp.mode != RESTART_NO)
                return eng_err(err, EINVAL, "conflicting options: --restart and --rm");
        if (o->stop_timeout &&
            engine_parse_int("--stop-timeout", o->stop_timeout, -1, 24 * 3600, &v, err) < 0)
                return -1;
        return 0;
}

int engine_container_create(struct engine *e, const struct engine_create_opts *o, struct container **out,
                            struct berr **err)
{
        _cleanup_container_ struct container *c = calloc(1, sizeof(*c));
        _cleanup_(engine_runtime_choice_done) struct engine_runtime_choice rt = {0};
        _cleanup_image_config_ struct image_config *img = NULL;
        _cleanup_engine_spec_ struct engine_spec *spec = NULL;
        _cleanup_free_ char *dir = NULL, *userdata = NULL, *rootfs = NULL, *netns = NULL, *network = NULL;
        _cleanup_free_ char *ns_net = NULL, *ns_pid = NULL, *ns_ipc = NULL, *shared_files = NULL, *shm = NULL;
        _cleanup_close_ int lock = -1;
        struct create_state cs = {.e = e};
        struct engine_spec_ctx ctx = {0};
        struct engine_mount *mounts = NULL;
        size_t n_mounts = 0;
        json_object *vols = NULL;
        struct engine_image_config eimg;
        struct engine_run_opts run;
        enum network_mode mode = NETWORK_MODE_BRIDGE;
        const char *net_arg = o->run.network;
        json_object *cfg, *labels, *netj;
        int64_t stop_timeout = e->cfg.stop_timeout;

        if (!c)
                return berr_make(err, ENOMEM, "create");
        if (validate_create(e, o, err) < 0 || engine_runtime_resolve(e, o->runtime, &rt, err) < 0)
                return -1;
        if (o->stop_timeout)
                engine_parse_int("--stop-timeout", o->stop_timeout, -1, 24 * 3600, &stop_timeout, NULL);
        if (net_arg && strneq(net_arg, "container:", 10)) {
                if (container_ns_path(e, "--network", net_arg, "net", &ns_net, &shared_files, err) < 0)
                        return -1;
        } else if (network_mode_parse(&e->net, net_arg, &mode, &network, err) < 0) {
                return -1;
        }
        if (container_ns_path(e, "--pid", o->run.pid, "pid", &ns_pid, NULL, err) < 0 ||
            container_ns_path(e, "--ipc", o->run.ipc, "ipc", &ns_ipc, NULL, err) < 0)
                return -1;
        if (resolve_image(e, o, &c->image_id, err) < 0 || load_image_config(e, c->image_id, &img, err) < 0)
                return -1;

        c->config = cfg = json_object_new_object();
        c->image_name = strdup(o->image);
        c->runtime = strdup(rt.name);
        c->runtime_path = strdup(rt.path);
        if (!cfg || !c->image_name || !c->runtime || !c->runtime_path)
                return berr_make(err, ENOMEM, "create");
        if (parse_log_opts(e, o, cfg, err) < 0)
                return -1;
        {
                const struct engine_image_config exposed = {.exposed_ports = img->exposed_ports};
                const char *what = ns_net ? "container:" : mode == NETWORK_MODE_NONE ? "none" : "host";
                if (engine_ports_prepare(o, &exposed, mode == NETWORK_MODE_BRIDGE && !ns_net, what, cfg,
                                         err) < 0)
                        return -1;
        }
        if (container_id_new(cs.id, err) < 0)
                return -1;
        c->id = strdup(cs.id);
        if (o->name)
                c->name = strdup(o->name);
        else if (container_name_new(e->db, &c->name, err) < 0)
                return -1;
        if (!c->id || !c->name)
                return berr_make(err, ENOMEM, "create");
        c->created_ns = time_now_ns();
        c->phase = CONTAINER_PHASE_CREATED;

        /* The directory first, locked: its fd is the container's lock. */
        dir = engine_container_dir(e, c->id);
        userdata = dir ? path_join(dir, USERDATA) : NULL;
        if (!userdata)
                return berr_make(err, ENOMEM, "create");
        if (mkdirat(e->containers_fd, c->id, 0700) < 0)
                return berr_errno(err, "create `%s`", dir);
        cs.dir = true;
        if (mkdir(userdata, 0755) < 0) {
                berr_errno(err, "create `%s`", userdata);
                goto fail;
        }
        lock = engine_container_lock(e, c->id, true, err);
        if (lock < 0)
                goto fail;
        /* The record next: it reserves the name, and a crash from here on leaves
         * something `berth rm` finds. */
        if (container_insert(e->db, c, err) < 0) {
                goto fail;
        }
        cs.record = true;
        if (snapshot_rw_create(e->store, c->id, c->image_id, err) < 0)
                goto fail;
        cs.layer = true;
        if (snapshot_rw_mount(e->store, c->id, NULL, false, &rootfs, err) < 0)
                goto fail;

        if (mode == NETWORK_MODE_BRIDGE && !ns_net) {
                _cleanup_free_ char *name = engine_netns_name(c->id);
                netns = name ? network_netns_path(&e->net, name) : NULL;
                if (!netns) {
                        berr_make(err, ENOMEM, "create");
                        goto fail;
                }
        }
        eimg = (struct engine_image_config){
            .user = img->user,
            .working_dir = img->working_dir,
            .stop_signal = img->stop_signal,
            .entrypoint = img->entrypoint,
            .cmd = img->cmd,
            .env = img->env,
            .exposed_ports = img->exposed_ports,
            .volumes = img->volumes,
            .labels = img->labels,
        };
        ctx = (struct engine_spec_ctx){
            .id = c->id,
            .name = c->name,
            .rootfs = rootfs,
            .files_dir = shared_files ? shared_files : userdata,
            .seccomp_profile = e->cfg.seccomp_profile,
            .init_path = e->cfg.init_path,
        };
        ctx.ns_paths[OCI_NS_NET] = ns_net ? ns_net : netns;
        ctx.ns_paths[OCI_NS_PID] = ns_pid;
        ctx.ns_paths[OCI_NS_IPC] = ns_ipc;
        if (ns_ipc) {
                /* /proc/<pid>/ns/ipc -> /proc/<pid>/root/dev/shm */
                shm = strdup(ns_ipc);
                if (!shm) {
                        berr_make(err, ENOMEM, "create");
                        goto fail;
                }
                strcpy(strstr(shm, "/ns/ipc"), "/root/dev/shm");
                ctx.shm_path = shm;
        }
        run = o->run;
        cs.volumes = true;
        if (engine_volumes_prepare(e, c->id, &eimg, &o->run, &mounts, &n_mounts, &vols, err) < 0)
                goto fail;
        run.mounts = mounts;
        run.n_mounts = n_mounts;
        if (!run.cgroup_parent)
                run.cgroup_parent = e->cfg.cgroup_parent;
        if (engine_spec_build(&eimg, &run, &ctx, &spec, err) < 0 ||
            fit_oci_version(&rt, spec->config, err) < 0 || engine_spec_prepare(spec, &ctx, err) < 0 ||
            engine_spec_write_bundle(spec, dir, err) < 0)
                goto fail;

        /* What later commands need, decided once. */
        json_object_object_add(cfg, "image", json_object_new_string(o->image));
        /* With the volumes as resolved: inspect shows their names and paths. */
        json_object_object_add(cfg, "runOpts", engine_run_opts_to_json(&run));
        json_object_object_add(cfg, "volumes", TAKE_PTR(vols));
        json_object_object_add(cfg, "rm", json_object_new_boolean(o->rm));
        json_object_object_add(cfg, "restart", json_object_new_string(o->restart ? o->restart : "no"));
        json_object_object_add(cfg, "stopSignal", json_object_new_int(spec->stop_signal));
        json_object_object_add(cfg, "stopTimeout", json_object_new_int64(stop_timeout));
        json_object_object_add(cfg, "tty", json_object_new_boolean(o->run.tty));
        json_object_object_add(cfg, "interactive", json_object_new_boolean(o->run.interactive));
        json_object_object_add(cfg, "hostname", json_object_new_string(spec->hostname));
        json_object_object_add(cfg, "runtimeArgs", engine_json_strv((const char *const *)rt.args));
        {
                json_object *lin = json_object_object_get(spec->config, "linux"), *cg = NULL;
                json_object *proc = json_object_object_get(spec->config, "process");
                if (lin && json_object_object_get_ex(lin, "cgroupsPath", &cg))
                        json_object_object_add(cfg, "cgroupsPath", json_object_get(cg));
                json_object_object_add(cfg, "command", json_object_get(json_object_object_get(proc, "args")));
        }
        entrypoint_cmd_json(img, &o->run, cfg);
        labels = json_object_new_object();
        for (char **l = spec->labels; l && l[0] && l[1]; l += 2)
                json_object_object_add(labels, l[0], json_object_new_string(l[1]));
        json_object_object_add(cfg, "labels", labels);
        netj = json_object_new_object();
        json_object_object_add(netj, "mode",
                               json_object_new_string(ns_net                      ? "container"
                                                      : mode == NETWORK_MODE_NONE ? "none"
                                                      : mode == NETWORK_MODE_HOST ? "host"
                                                                                  : "bridge"));
        if (network)
                json_object_object_add(netj, "name", json_object_new_string(network));
        if (netns)
                json_object_object_add(netj, "netns", json_object_new_string(netns));
        json_object_object_add(cfg, "network", netj);
        if (spec->hosts)
                json_object_object_add(cfg, "hostsPath",
                                       json_object_new_string_len(userdata, (int)strlen(userdata)));
        if (parse_log_opts(e, o, cfg, err) < 0)
                goto fail;
        {
                _cleanup_free_ char *log = path_join(dir, LOG_FILE);
                if (!log) {
                        berr_make(err, ENOMEM, "create");
                        goto fail;
                }
                json_object_object_add(cfg, "logPath", json_object_new_string(log));
        }
        if (container_update_config(e->db, c->id, cfg, err) < 0)
                goto fail;
        engine_mounts_free(mounts, n_mounts);
        engine_event_container(e, c, "create", NULL);
        *out = TAKE_PTR(c);
        return 0;
fail:
        engine_mounts_free(mounts, n_mounts);
        json_object_put(vols);
        create_undo(&cs);
        return -1;
}

/* ---- start ------------------------------------------------------------------------- */

static bool rootfs_mounted(struct engine *e, const char *id)
{
        _cleanup_free_ char *layer = NULL, *merged = NULL;
        struct stat a, b;

        if (asprintf(&layer, "%s/rw/%s", e->store->root, id) < 0 || asprintf(&merged, "%s/merged", layer) < 0)
                return false;
        return stat(layer, &a) == 0 && stat(merged, &b) == 0 && a.st_dev != b.st_dev;
}

static int ensure_mounted(struct engine *e, const char *id, struct berr **err)
{
        if (rootfs_mounted(e, id))
                return 0;
        return snapshot_rw_mount(e->store, id, NULL, false, NULL, err);
}

static char **monitor_argv(struct engine *e, const struct container *c, const char *state_dir, bool start,
                           struct berr **err)
{
        _cleanup_strv_free_ char **v = NULL;
        _cleanup_free_ char *mon = launch_monitor_path(e), *rtroot = engine_runtime_root(e, c->runtime);
        _cleanup_free_ char *bundle = engine_container_dir(e, c->id);
        json_object *args = container_cfg(c, "runtimeArgs");
        const char *driver = container_cfg_str(c, "logDriver"), *restart = container_cfg_str(c, "restart");
        int64_t size_max = container_cfg_int(c, "logSizeMax", 0),
                max_files = container_cfg_int(c, "logMaxFiles", 1);
        char num[32];
        int r = 0;

        if (!mon) {
                eng_err(err, ENOENT, "%s not found (install it, or set monitorPath in %s)",
                        ENGINE_MONITOR_NAME, e->config_path);
                return NULL;
        }
        if (!rtroot || !bundle)
                goto oom;
#define ADD(s) r |= strv_extend(&v, (s))
        ADD(mon);
        ADD("--id");
        ADD(c->id);
        ADD("--runtime");
        ADD(c->runtime_path);
        for (size_t i = 0; json_object_is_type(args, json_type_array) && i < json_object_array_length(args);
             i++) {
                ADD("--runtime-arg");
                ADD(json_object_get_string(json_object_array_get_idx(args, i)));
        }
        ADD("--runtime-root");
        ADD(rtroot);
        ADD("--bundle");
        ADD(bundle);
        ADD("--state-dir");
        ADD(state_dir);
        ADD("--log-driver");
        ADD(driver ? driver : "k8s-file");
        if (driver && !streq(driver, "none")) {
                ADD("--log-path");
                ADD(container_cfg_str(c, "logPath"));
        }
        if (size_max > 0) {
                snprintf(num, sizeof(num), "%lld", (long long)size_max);
                ADD("--log-size-max");
                ADD(num);
                snprintf(num, sizeof(num), "%lld", (long long)max_files);
                ADD("--log-max-files");
                ADD(num);
        }
        if (container_cfg_bool(c, "tty"))
                ADD("--terminal");
        if (container_cfg_bool(c, "interactive"))
                ADD("--stdin");
        if (start)
                ADD("--start");
        ADD("--cleanup");
        if (restart && !streq(restart, "no")) {
                ADD("--restart");
                ADD(restart);
        }
        ADD("--exit-command");
        ADD(e->self_exe);
        ADD("--exit-command-arg");
        ADD("--root");
        ADD("--exit-command-arg");
        ADD(e->root);
        ADD("--exit-command-arg");
        ADD("--runroot");
        ADD("--exit-command-arg");
        ADD(e->runroot);
        if (access(e->config_path, F_OK) == 0) {
                ADD("--exit-command-arg");
                ADD("--config");
                ADD("--exit-command-arg");
                ADD(e->config_path);
        }
        ADD("--exit-command-arg");
        ADD("container");
        ADD("--exit-command-arg");
        ADD("cleanup");
        ADD("--exit-command-arg");
        ADD(c->id);
        ADD("--sync-fd");
        ADD("3");
#undef ADD
        if (r < 0)
                goto oom;
        return TAKE_PTR(v);
oom:
        berr_make(err, ENOMEM, "monitor command line");
        return NULL;
}

/* Copies the monitor's final word into the record. */
static void absorb_monitor_state(struct engine *e, struct container *c, const char *state_dir)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct container_state st;

        (void)state_dir;
        if (container_state_derive(e, c, &st, &err) < 0)
                return;
        c->started_ns = st.started_ns;
        c->finished_ns = st.finished_ns ? st.finished_ns : time_now_ns();
        c->exit_code = st.exit_code;
        c->oom_killed = st.oom_killed;
        c->restart_count = st.restart_count;
        free(c->error);
        c->error = TAKE_PTR(st.error);
        container_state_done(&st);
}

static bool runtime_has(struct engine *e, const struct container *c)
{
        _cleanup_free_ char *root = engine_runtime_root(e, c->runtime), *p = NULL;

        return root && asprintf(&p, "%s/%s", root, c->id) >= 0 && access(p, F_OK) == 0;
}

static int remove_state_dir(struct engine *e, const char *id, struct berr **err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/containers", e->runroot) < 0)
                return berr_make(err, ENOMEM, "state directory");
        fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : berr_errno(err, "open `%s`", p);
        return rm_rf_at(fd, id, err);
}

static void emit_die(struct engine *e, const struct container *c, int exit_code)
{
        char code[16];

        snprintf(code, sizeof(code), "%d", exit_code);
        engine_event_container(e, c, "die", (const char *const[]){"exitCode", code, NULL});
}

/*
 * With the lock held: after the monitor is gone, everything a run holds is
 * given back and the record keeps how it ended. Nothing to do unless the
 * record says started.
 */
static int cleanup_locked(struct engine *e, struct container *c, struct berr **err)
{
        _cleanup_free_ char *state_dir = engine_state_dir(e, c->id);
        bool finishing = false;
        int r;

        if (!state_dir)
                return berr_make(err, ENOMEM, "cleanup");
        if (c->phase != CONTAINER_PHASE_STARTED && c->phase != CONTAINER_PHASE_REMOVING)
                return 0;
        r = monitor_probe(state_dir, err);
        if (r < 0)
                return r;
        if (r > 0) {
                /* A monitor that recorded the exit for good only deletes the runtime's
                 * container (--cleanup) and leaves: the rest needs not wait for it. */
                struct monitor_state ms;
                finishing = monitor_state_read(state_dir, &ms, NULL) == 0 && ms.status == MONITOR_EXITED;
                monitor_state_clear(&ms);
                if (!finishing)
                        return eng_err(err, EBUSY, "container %s is still running", c->name);
        }
        if (c->phase == CONTAINER_PHASE_STARTED)
                absorb_monitor_state(e, c, state_dir);
        /* A monitor killed -9 never deleted its container (nor killed it). */
        if (!finishing && runtime_has(e, c) &&
            engine_runtime_run(e, c, (const char *const[]){"delete", "--force", c->id, NULL}, err) < 0)
                return -1;
        if (engine_network_teardown(e, c, err) < 0 || engine_volumes_unmount(e, c, err) < 0)
                return -1;
        if (snapshot_rw_unmount(e->store, c->id, NULL, err) < 0)
                return -1;
        /* The record first: readers that find the monitor gone and no state.json
         * would take the container for dead. */
        if (c->phase == CONTAINER_PHASE_STARTED) {
                c->phase = CONTAINER_PHASE_STOPPED;
                if (container_update_state(e->db, c, err) < 0)
                        return -1;
                emit_die(e, c, c->exit_code);
        }
        return remove_state_dir(e, c->id, err);
}

/* Locks and re-reads: another process may have changed or removed it meanwhile. */
static int lock_container(struct engine *e, const char *id, int *lock, struct container **c,
                          struct berr **err)
{
        int fd = engine_container_lock(e, id, true, err), r;

        if (fd < 0)
                return fd;
        r = container_get(e->db, id, c, err);
        if (r <= 0) {
                close(fd);
                return r < 0 ? -1 : eng_err(err, ENOENT, "no such container: %.12s", id);
        }
        *lock = fd;
        return 0;
}

static int start_failed(struct engine *e, struct container *c, const char *state_dir, struct berr **err)
{
        _cleanup_berr_ struct berr *e2 = NULL;

        (void)state_dir;
        engine_network_teardown(e, c, &e2);
        berr_freep(&e2);
        engine_volumes_unmount(e, c, &e2);
        berr_freep(&e2);
        remove_state_dir(e, c->id, &e2);
        berr_freep(&e2);
        /* docker leaves a container that failed to start as created, with the reason. */
        c->phase = CONTAINER_PHASE_CREATED;
        c->exit_code = engine_exit_code_for(err && *err ? (*err)->msg : NULL);
        free(c->error);
        c->error = err && *err ? strdup((*err)->msg) : NULL;
        container_update_state(e->db, c, &e2);
        return -1;
}

int engine_container_start(struct engine *e, const char *id, struct attach_conn **attach, struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        _cleanup_close_ int lock = -1;
        _cleanup_free_ char *state_dir = engine_state_dir(e, id);
        _cleanup_strv_free_ char **argv = NULL;
        struct container_state st = {0};
        struct launch_result res;
        int r;

        if (attach)
                *attach = NULL;
        if (!state_dir)
                return berr_make(err, ENOMEM, "start");
        if (lock_container(e, id, &lock, &c, err) < 0)
                return -1;
        if (container_state_derive(e, c, &st, err) < 0)
                return -1;
        r = st.status;
        container_state_done(&st);
        /* A monitor still finishing the last run holds the runtime's container. */
        if (r == CONTAINER_EXITED && c->phase == CONTAINER_PHASE_STARTED &&
            engine_monitor_wait_gone(state_dir, 30000, err) < 0)
                return -1;
        switch (r) {
        case CONTAINER_RUNNING:
        case CONTAINER_PAUSED:
        case CONTAINER_RESTARTING:
                return 0;
        case CONTAINER_REMOVING:
                return eng_err(err, EBUSY, "container %s is being removed", c->name);
        case CONTAINER_CREATED:
                if (c->phase == CONTAINER_PHASE_STARTED)
                        return 0; /* a monitor is creating it right now */
                break;
        default:
                if (cleanup_locked(e, c, err) < 0)
                        return -1;
        }
        if (ensure_mounted(e, c->id, err) < 0)
                return -1;
        argv = monitor_argv(e, c, state_dir, attach == NULL, err);
        if (!argv)
                return -1;
        if (remove_state_dir(e, c->id, err) < 0)
                return -1;
        if (engine_volumes_mount(e, c, err) < 0 || engine_network_setup(e, c, err) < 0)
                return start_failed(e, c, state_dir, err);
        c->phase = CONTAINER_PHASE_STARTED;
        free(c->error);
        c->error = NULL;
        c->exit_code = 0;
        if (container_update_state(e->db, c, err) < 0)
                return start_failed(e, c, state_dir, err);
        if (launch_monitor(e, argv, &res, err) < 0)
                return start_failed(e, c, state_dir, err);
        if (!attach) {
                engine_event_container(e, c, "start", NULL);
                return 0;
        }
        if (attach_connect(state_dir, attach, err) < 0 ||
            engine_runtime_run(e, c, (const char *const[]){"start", c->id, NULL}, err) < 0) {
                _cleanup_berr_ struct berr *e2 = NULL;
                attach_conn_free(*attach);
                *attach = NULL;
                /* The monitor records the container's end and runs the cleanup. */
                engine_runtime_run(e, c, (const char *const[]){"kill", c->id, "KILL", NULL}, &e2);
                return -1;
        }
        engine_event_container(e, c, "start", NULL);
        return 0;
}

/* ---- stop, kill, wait -------------------------------------------------------------- */

static int sleep_ms(int ms)
{
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        return nanosleep(&ts, NULL);
}

int engine_monitor_wait_gone(const char *state_dir, int timeout_ms, struct berr **err)
{
        int64_t deadline = time_mono_ns() + (int64_t)timeout_ms * 1000000LL;
        int delay = 1;

        for (;;) {
                int r = monitor_probe(state_dir, err);
                if (r <= 0)
                        return r;
                if (timeout_ms >= 0 && time_mono_ns() >= deadline)
                        return eng_err(err, ETIMEDOUT, "the monitor of `%s` is still running", state_dir);
                sleep_ms(delay);
                delay = MIN(delay * 2, 50);
        }
}

static bool is_active(enum container_status s)
{
        return s == CONTAINER_RUNNING || s == CONTAINER_PAUSED || s == CONTAINER_RESTARTING;
}

/* How long a monitor may take to record an exit the runtime already knows of. */
#define EXIT_RECORD_NS (5 * 1000000000LL)

/* Waits for a change of the state directory or timeout_ms. */
static void wait_change(const char *state_dir, int timeout_ms)
{
        _cleanup_close_ int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        struct pollfd p;

        if (fd < 0 || inotify_add_watch(fd, state_dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF) < 0) {
                sleep_ms(MIN(timeout_ms, 100));
                return;
        }
        p = (struct pollfd){fd, POLLIN, 0};
        (void)poll(&p, 1, timeout_ms);
}

/* Re-reads the record and its state; 0 when the record is gone. */
static int current_state(struct engine *e, const char *id, struct container_state *st, struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        int r = container_get(e->db, id, &c, err);

        if (r <= 0)
                return r;
        return container_state_derive(e, c, st, err) < 0 ? -1 : 1;
}

/* Until the container is not active; deadline_ns 0: no bound. 1: stopped, 0: timed out. */
static int wait_inactive(struct engine *e, const char *id, int64_t deadline_ns, int *exit_code,
                         struct berr **err)
{
        _cleanup_free_ char *state_dir = engine_state_dir(e, id);

        if (!state_dir)
                return berr_make(err, ENOMEM, "wait");
        for (;;) {
                struct container_state st = {0};
                int r = current_state(e, id, &st, err), slice = 500;
                bool active;

                if (r < 0)
                        return -1;
                if (r == 0)
                        return eng_err(err, ENOENT, "no such container: %.12s", id);
                active = is_active(st.status) || st.status == CONTAINER_CREATED;
                if (exit_code)
                        *exit_code = st.exit_code;
                container_state_done(&st);
                if (!active)
                        return 1;
                if (deadline_ns) {
                        int64_t left = deadline_ns - time_mono_ns();
                        if (left <= 0)
                                return 0;
                        slice = (int)MIN((int64_t)slice, left / 1000000 + 1);
                }
                wait_change(state_dir, slice);
        }
}

/* While a monitor creates the container: 1 with its status after that, 0: timed out. */
static int wait_created(struct engine *e, const char *id, int64_t deadline_ns, int *status, struct berr **err)
{
        _cleanup_free_ char *state_dir = engine_state_dir(e, id);

        if (!state_dir)
                return berr_make(err, ENOMEM, "stop");
        for (;;) {
                struct container_state st = {0};
                int r = current_state(e, id, &st, err);
                int64_t left;

                if (r < 0)
                        return -1;
                if (r == 0)
                        return eng_err(err, ENOENT, "no such container: %.12s", id);
                *status = st.status;
                container_state_done(&st);
                if (*status != CONTAINER_CREATED)
                        return 1;
                left = deadline_ns - time_mono_ns();
                if (left <= 0)
                        return 0;
                wait_change(state_dir, (int)MIN(left / 1000000 + 1, 100));
        }
}

int engine_container_wait(struct engine *e, const char *id, int *exit_code, struct berr **err)
{
        return wait_inactive(e, id, 0, exit_code, err) < 0 ? -1 : 0;
}

static void mark_stopping(struct engine *e, const char *id)
{
        _cleanup_free_ char *state_dir = engine_state_dir(e, id);
        _cleanup_berr_ struct berr *err = NULL;

        if (state_dir)
                monitor_request_stop(state_dir, &err);
}

static int signal_container(struct engine *e, const struct container *c, int sig, struct berr **err)
{
        char num[16];

        snprintf(num, sizeof(num), "%d", sig);
        return engine_runtime_run(e, c, (const char *const[]){"kill", c->id, num, NULL}, err);
}

int engine_container_kill(struct engine *e, const char *id, int sig, struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        struct container_state st = {0};
        int r = container_get(e->db, id, &c, err);

        if (r <= 0)
                return r < 0 ? -1 : eng_err(err, ENOENT, "no such container: %.12s", id);
        if (container_state_derive(e, c, &st, err) < 0)
                return -1;
        r = st.status;
        container_state_done(&st);
        if (!is_active(r))
                return eng_err(err, EINVAL, "container %s is not running", c->name);
        if (sig == SIGKILL || sig == container_cfg_int(c, "stopSignal", SIGTERM))
                mark_stopping(e, c->id);
        if (signal_container(e, c, sig, err) < 0)
                return -1;
        {
                char num[16];
                snprintf(num, sizeof(num), "%d", sig);
                engine_event_container(e, c, "kill", (const char *const[]){"signal", num, NULL});
        }
        return 0;
}

/* *was_active: it ran, and is stopped now. */
static int stop_container(struct engine *e, const char *id, int timeout, bool *was_active, struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        struct container_state st = {0};
        int r = container_get(e->db, id, &c, err), status;
        int sig;

        if (r <= 0)
                return r < 0 ? -1 : eng_err(err, ENOENT, "no such container: %.12s", id);
        if (container_state_derive(e, c, &st, err) < 0)
                return -1;
        status = st.status;
        container_state_done(&st);
        if (status == CONTAINER_CREATED && c->phase == CONTAINER_PHASE_STARTED) {
                /* A monitor is creating it (a start that just returned): the stop is on
                 * record before it can run, and the container is stopped once it does. */
                mark_stopping(e, c->id);
                r = wait_created(e, id, time_mono_ns() + 10 * 1000000000LL, &status, err);
                if (r <= 0)
                        return r < 0 ? -1
                                     : eng_err(err, ETIMEDOUT, "container %s: its monitor did not create it",
                                               c->name);
        }
        if (status == CONTAINER_DEAD) {
                _cleanup_close_ int lock = -1;
                container_free(TAKE_PTR(c));
                if (lock_container(e, id, &lock, &c, err) < 0)
                        return -1;
                return cleanup_locked(e, c, err);
        }
        if (!is_active(status))
                return 0;
        *was_active = true;
        if (timeout < 0)
                timeout = (int)container_cfg_int(c, "stopTimeout", e->cfg.stop_timeout);
        sig = (int)container_cfg_int(c, "stopSignal", SIGTERM);
        mark_stopping(e, c->id);
        if (status == CONTAINER_PAUSED)
                engine_runtime_run(e, c, (const char *const[]){"resume", c->id, NULL}, NULL);
        if (status == CONTAINER_RESTARTING) {
                /* Between two runs: the monitor checks the stop request before it
                 * starts the next one, so there is nothing to signal. */
                r = wait_inactive(e, id, time_mono_ns() + 10 * 1000000000LL, NULL, err);
                if (r != 0)
                        return r < 0 ? -1 : 0;
        } else if (timeout > 0) {
                if (signal_container(e, c, sig, err) < 0) {
                        /* It may have exited meanwhile: its monitor records that soon. */
                        if (wait_inactive(e, id, time_mono_ns() + EXIT_RECORD_NS, NULL, NULL) == 1) {
                                berr_freep(err);
                                return 0;
                        }
                        return -1;
                }
                r = wait_inactive(e, id, time_mono_ns() + (int64_t)timeout * 1000000000LL, NULL, err);
                if (r != 0)
                        return r < 0 ? -1 : 0;
        }
        {
                _cleanup_berr_ struct berr *e2 = NULL;
                if (signal_container(e, c, SIGKILL, &e2) < 0 &&
                    wait_inactive(e, id, time_mono_ns() + EXIT_RECORD_NS, NULL, NULL) != 1) {
                        berr_move(err, &e2);
                        return -1;
                }
        }
        return wait_inactive(e, id, 0, NULL, err) < 0 ? -1 : 0;
}

int engine_container_stop(struct engine *e, const char *id, int timeout, struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        _cleanup_berr_ struct berr *e2 = NULL;
        bool was_active = false;

        if (stop_container(e, id, timeout, &was_active, err) < 0)
                return -1;
        if (was_active && container_get(e->db, id, &c, &e2) > 0)
                engine_event_container(e, c, "stop", NULL);
        return 0;
}

int engine_container_restart(struct engine *e, const char *id, int timeout, struct berr **err)
{
        _cleanup_free_ char *state_dir = engine_state_dir(e, id);

        if (!state_dir)
                return berr_make(err, ENOMEM, "restart");
        if (engine_container_stop(e, id, timeout, err) < 0)
                return -1;
        /* The monitor lets go after recording the exit; start then cleans up first. */
        if (engine_monitor_wait_gone(state_dir, 30000, err) < 0)
                return -1;
        if (engine_container_start(e, id, NULL, err) < 0)
                return -1;
        {
                _cleanup_container_ struct container *c = NULL;
                _cleanup_berr_ struct berr *e2 = NULL;
                if (container_get(e->db, id, &c, &e2) > 0)
                        engine_event_container(e, c, "restart", NULL);
        }
        return 0;
}

/* ---- cleanup and remove ------------------------------------------------------------ */

static int remove_locked(struct engine *e, struct container *c, bool volumes, struct berr **err)
{
        _cleanup_berr_ struct berr *e2 = NULL;

        /* Its last run ends here: cleanup sees the record as removing and records nothing. */
        if (c->phase == CONTAINER_PHASE_STARTED) {
                struct container_state st;
                if (container_state_derive(e, c, &st, &e2) == 0) {
                        emit_die(e, c, st.exit_code);
                        container_state_done(&st);
                }
                berr_freep(&e2);
        }
        if (c->phase != CONTAINER_PHASE_REMOVING) {
                if (container_set_phase(e->db, c->id, CONTAINER_PHASE_REMOVING, err) < 0)
                        return -1;
                c->phase = CONTAINER_PHASE_REMOVING;
        }
        if (cleanup_locked(e, c, err) < 0)
                return -1;
        if (snapshot_rw_remove(e->store, c->id, &e2) < 0 && e2->code != ENOENT) {
                berr_move(err, &e2);
                return -1;
        }
        if (rm_rf_at(e->containers_fd, c->id, err) < 0)
                return -1;
        /* docker: --rm takes the anonymous volumes along, rm only with -v. */
        if (volume_release(e->db, e->root, c->id, volumes || container_cfg_bool(c, "rm"), NULL, err) < 0)
                return -1;
        if (container_delete(e->db, c->id, err) < 0)
                return -1;
        engine_event_container(e, c, "destroy", NULL);
        return 0;
}

int engine_container_cleanup(struct engine *e, const char *id, struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        _cleanup_close_ int lock = engine_container_lock(e, id, true, NULL);
        int r;

        /* Already removed: nothing left to do. */
        if (lock < 0)
                return 0;
        r = container_get(e->db, id, &c, err);
        if (r <= 0)
                return r;
        if (c->phase != CONTAINER_PHASE_STARTED)
                return 0;
        if (cleanup_locked(e, c, err) < 0) {
                /* A new run began meanwhile: not ours to clean. */
                if (err && *err && (*err)->code == EBUSY) {
                        berr_freep(err);
                        return 0;
                }
                return -1;
        }
        if (container_cfg_bool(c, "rm"))
                return remove_locked(e, c, true, err);
        return 0;
}

int engine_container_remove(struct engine *e, const char *id, bool force, bool volumes, struct berr **err)
{
        _cleanup_container_ struct container *c = NULL;
        _cleanup_close_ int lock = -1;
        _cleanup_free_ char *state_dir = engine_state_dir(e, id);
        struct container_state st = {0};
        int status;

        if (!state_dir)
                return berr_make(err, ENOMEM, "remove");
        if (lock_container(e, id, &lock, &c, err) < 0)
                return -1;
        if (container_state_derive(e, c, &st, err) < 0)
                return -1;
        status = st.status;
        container_state_done(&st);
        if (is_active(status) || (status == CONTAINER_CREATED && c->phase == CONTAINER_PHASE_STARTED)) {
                if (!force)
                        return eng_err(err, EBUSY,
                                       "cannot remove container %s as it is %s - stop the container before "
                                       "attempting removal or force remove",
                                       c->name, container_status_name(status));
                mark_stopping(e, c->id);
                if (status == CONTAINER_PAUSED)
                        engine_runtime_run(e, c, (const char *const[]){"resume", c->id, NULL}, NULL);
                signal_container(e, c, SIGKILL, NULL);
        }
        if ((c->phase == CONTAINER_PHASE_STARTED || c->phase == CONTAINER_PHASE_REMOVING) &&
            status != CONTAINER_EXITED) {
                /* The monitor records the exit and lets go; one that hangs is killed. */
                if (engine_monitor_wait_gone(state_dir, 10000, NULL) < 0) {
                        monitor_signal(state_dir, SIGKILL, NULL);
                        if (engine_monitor_wait_gone(state_dir, 5000, err) < 0)
                                return -1;
                }
        }
        return remove_locked(e, c, volumes, err);
}
