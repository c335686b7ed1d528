/* SPDX-License-Identifier: Apache-2.0 */
/* `berth container inspect` (docker's field names) and `berth inspect`, which tries containers, then images.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "ctr-util.h"
#include "engine/engine.h"
#include "engine/spec-internal.h"
#include "image/images.h"
#include "image/snapshot.h"

static const struct berth_usage usage = {
    .usage = "berth inspect [options] NAME [NAME...]",
    .summary = "Display the configuration of containers or images",
    .options = "  -f, --format FORMAT   a Go template (e.g. '{{.State.Status}}', '{{json .Config}}')\n"
               "      --type TYPE       container or image (default: containers first, then images)\n",
};

static json_object *str(const char *s)
{
        return json_object_new_string(s ? s : "");
}

static json_object *copy(json_object *v)
{
        return v ? json_object_get(v) : NULL;
}

static json_object *get(json_object *o, const char *path)
{
        _cleanup_free_ char *p = strdup(path);
        char *save = NULL;

        if (!p)
                return NULL;
        for (char *k = strtok_r(p, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
                if (!json_object_object_get_ex(o, k, &o))
                        o = NULL;
        return o;
}

static json_object *time_json(int64_t ns)
{
        char buf[64];
        /* docker's zero time for "never" */
        if (!ns)
                return json_object_new_string("0001-01-01T00:00:00Z");
        return json_object_new_string(time_format_rfc3339(ns, buf, sizeof(buf)));
}

static json_object *opt_list(json_object *run, const char *key)
{
        json_object *v = get(run, key);
        return v ? json_object_get(v) : NULL;
}

static json_object *state_json(const struct container_state *st)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "Status", str(container_status_name(st->status)));
        json_object_object_add(o, "Running",
                               json_object_new_boolean(st->status == CONTAINER_RUNNING ||
                                                       st->status == CONTAINER_PAUSED ||
                                                       st->status == CONTAINER_RESTARTING));
        json_object_object_add(o, "Paused", json_object_new_boolean(st->status == CONTAINER_PAUSED));
        json_object_object_add(o, "Restarting", json_object_new_boolean(st->status == CONTAINER_RESTARTING));
        json_object_object_add(o, "OOMKilled", json_object_new_boolean(st->oom_killed));
        json_object_object_add(o, "Dead", json_object_new_boolean(st->status == CONTAINER_DEAD));
        json_object_object_add(o, "Pid", json_object_new_int(st->pid));
        json_object_object_add(o, "ExitCode", json_object_new_int(st->exit_code));
        json_object_object_add(o, "Error", str(st->error));
        json_object_object_add(o, "StartedAt", time_json(st->started_ns));
        json_object_object_add(o, "FinishedAt", time_json(st->finished_ns));
        json_object_object_add(o, "MonitorPid", json_object_new_int(st->monitor_pid));
        return o;
}

/* docker's port map: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], ...}; host_port 0 is "". */
static void port_map_add(json_object *map, const char *ip, unsigned host_port, unsigned port,
                         const char *proto)
{
        json_object *list, *b = json_object_new_object();
        char key[32], hp[16] = "";

        snprintf(key, sizeof(key), "%u/%s", port, proto);
        if (host_port)
                snprintf(hp, sizeof(hp), "%u", host_port);
        if (!json_object_object_get_ex(map, key, &list) || !list) {
                list = json_object_new_array();
                json_object_object_add(map, key, list);
        }
        json_object_object_add(b, "HostIp", str(ip));
        json_object_object_add(b, "HostPort", str(hp));
        json_object_array_add(list, b);
}

/* What -p asked for. */
static json_object *port_bindings(const struct container *c)
{
        json_object *map = json_object_new_object(), *ports = container_cfg(c, "ports");

        for (size_t i = 0; json_object_is_type(ports, json_type_array) && i < json_object_array_length(ports);
             i++) {
                json_object *p = json_object_array_get_idx(ports, i);
                port_map_add(map, json_object_get_string(get(p, "hostIp")),
                             (unsigned)json_object_get_int(get(p, "hostPort")),
                             (unsigned)json_object_get_int(get(p, "containerPort")),
                             json_object_get_string(get(p, "protocol")));
        }
        return map;
}

static json_object *host_config(const struct container *c, json_object *spec)
{
        json_object *o = json_object_new_object(), *run = container_cfg(c, "runOpts"),
                    *log = json_object_new_object();
        json_object *rp = json_object_new_object(), *binds = json_object_new_array(),
                    *logcfg = json_object_new_object();
        json_object *res = get(spec, "linux.resources"), *v;
        const char *restart = container_cfg_str(c, "restart"), *colon;
        json_object *mounts = get(run, "mounts");

        for (size_t i = 0;
             json_object_is_type(mounts, json_type_array) && i < json_object_array_length(mounts); i++) {
                json_object *m = json_object_array_get_idx(mounts, i);
                _cleanup_free_ char *b = NULL;
                if (!streq(json_object_get_string(get(m, "type")), "bind"))
                        continue;
                if (asprintf(&b, "%s:%s%s", json_object_get_string(get(m, "source")),
                             json_object_get_string(get(m, "destination")),
                             json_object_get_boolean(get(m, "readonly")) ? ":ro" : "") >= 0)
                        json_object_array_add(binds, json_object_new_string(b));
        }
        json_object_object_add(o, "Binds", binds);
        json_object_object_add(log, "Type", str(container_cfg_str(c, "logDriver")));
        if (container_cfg_int(c, "logSizeMax", 0) > 0) {
                char n[32];
                snprintf(n, sizeof(n), "%lld", (long long)container_cfg_int(c, "logSizeMax", 0));
                json_object_object_add(logcfg, "max-size", str(n));
                snprintf(n, sizeof(n), "%lld", (long long)container_cfg_int(c, "logMaxFiles", 1));
                json_object_object_add(logcfg, "max-file", str(n));
        }
        json_object_object_add(log, "Config", logcfg);
        json_object_object_add(o, "LogConfig", log);
        json_object_object_add(
            o, "NetworkMode",
            str(get(run, "network") ? json_object_get_string(get(run, "network")) : "bridge"));
        json_object_object_add(o, "PortBindings", port_bindings(c));
        json_object_object_add(
            o, "PublishAllPorts",
            json_object_new_boolean(json_object_get_boolean(container_cfg(c, "publishAll"))));
        colon = restart ? strchr(restart, ':') : NULL;
        json_object_object_add(
            rp, "Name", colon ? json_object_new_string_len(restart, (int)(colon - restart)) : str(restart));
        json_object_object_add(rp, "MaximumRetryCount", json_object_new_int(colon ? atoi(colon + 1) : 0));
        json_object_object_add(o, "RestartPolicy", rp);
        json_object_object_add(o, "AutoRemove", json_object_new_boolean(container_cfg_bool(c, "rm")));
        json_object_object_add(o, "Runtime", str(c->runtime));
        json_object_object_add(o, "CapAdd", opt_list(run, "capAdd"));
        json_object_object_add(o, "CapDrop", opt_list(run, "capDrop"));
        json_object_object_add(o, "Dns", opt_list(run, "dns"));
        json_object_object_add(o, "DnsOptions", opt_list(run, "dnsOptions"));
        json_object_object_add(o, "DnsSearch", opt_list(run, "dnsSearch"));
        json_object_object_add(o, "ExtraHosts", opt_list(run, "addHosts"));
        json_object_object_add(o, "GroupAdd", opt_list(run, "groupAdd"));
        json_object_object_add(o, "IpcMode", str(json_object_get_string(get(run, "ipc"))));
        json_object_object_add(o, "PidMode", str(json_object_get_string(get(run, "pid"))));
        json_object_object_add(o, "UTSMode", str(json_object_get_string(get(run, "uts"))));
        json_object_object_add(o, "UsernsMode", str(json_object_get_string(get(run, "userns"))));
        json_object_object_add(o, "CgroupnsMode", str(json_object_get_string(get(run, "cgroupns"))));
        json_object_object_add(o, "CgroupParent", str(json_object_get_string(get(run, "cgroupParent"))));
        json_object_object_add(o, "Privileged",
                               json_object_new_boolean(json_object_get_boolean(get(run, "privileged"))));
        json_object_object_add(o, "ReadonlyRootfs",
                               json_object_new_boolean(json_object_get_boolean(get(run, "readOnly"))));
        json_object_object_add(o, "SecurityOpt", opt_list(run, "securityOpts"));
        json_object_object_add(o, "Init", json_object_new_boolean(json_object_get_boolean(get(run, "init"))));
        json_object_object_add(o, "Memory",
                               json_object_new_int64(json_object_get_int64(get(res, "memory.limit"))));
        json_object_object_add(o, "MemoryReservation",
                               json_object_new_int64(json_object_get_int64(get(res, "memory.reservation"))));
        json_object_object_add(o, "MemorySwap",
                               json_object_new_int64(json_object_get_int64(get(res, "memory.swap"))));
        json_object_object_add(o, "CpuShares",
                               json_object_new_int64(json_object_get_int64(get(res, "cpu.shares"))));
        json_object_object_add(o, "CpuQuota",
                               json_object_new_int64(json_object_get_int64(get(res, "cpu.quota"))));
        json_object_object_add(o, "CpuPeriod",
                               json_object_new_int64(json_object_get_int64(get(res, "cpu.period"))));
        json_object_object_add(o, "CpusetCpus", str(json_object_get_string(get(res, "cpu.cpus"))));
        json_object_object_add(o, "CpusetMems", str(json_object_get_string(get(res, "cpu.mems"))));
        v = get(res, "pids.limit");
        json_object_object_add(o, "PidsLimit", v ? json_object_new_int64(json_object_get_int64(v)) : NULL);
        json_object_object_add(o, "Ulimits", opt_list(run, "ulimits"));
        json_object_object_add(o, "Sysctls", opt_list(run, "sysctls"));
        json_object_object_add(o, "Tmpfs", opt_list(run, "tmpfs"));
        return o;
}

static json_object *config_json(const struct container *c, json_object *spec)
{
        json_object *o = json_object_new_object(), *labels = container_cfg(c, "labels");
        bool tty = container_cfg_bool(c, "tty"), in = container_cfg_bool(c, "interactive");
        char sig[16];

        json_object_object_add(o, "Hostname", str(container_cfg_str(c, "hostname")));
        json_object_object_add(o, "Domainname", str(""));
        json_object_object_add(o, "User", str(json_object_get_string(get(c->config, "runOpts.user"))));
        json_object_object_add(o, "AttachStdin", json_object_new_boolean(in));
        json_object_object_add(o, "AttachStdout", json_object_new_boolean(true));
        json_object_object_add(o, "AttachStderr", json_object_new_boolean(true));
        json_object_object_add(o, "Tty", json_object_new_boolean(tty));
        json_object_object_add(o, "OpenStdin", json_object_new_boolean(in));
        json_object_object_add(o, "StdinOnce", json_object_new_boolean(false));
        json_object_object_add(o, "Env", copy(get(spec, "process.env")));
        json_object_object_add(o, "Cmd", copy(container_cfg(c, "cmd")));
        json_object_object_add(o, "Image", str(c->image_name));
        {
                json_object *ex = container_cfg(c, "exposedPorts"), *m = NULL;
                for (size_t i = 0;
                     json_object_is_type(ex, json_type_array) && i < json_object_array_length(ex); i++) {
                        if (!m)
                                m = json_object_new_object();
                        json_object_object_add(m, json_object_get_string(json_object_array_get_idx(ex, i)),
                                               json_object_new_object());
                }
                json_object_object_add(o, "ExposedPorts", m);
        }
        json_object_object_add(o, "Volumes", NULL);
        json_object_object_add(o, "WorkingDir", str(json_object_get_string(get(spec, "process.cwd"))));
        json_object_object_add(o, "Entrypoint", copy(container_cfg(c, "entrypoint")));
        json_object_object_add(o, "OnBuild", NULL);
        json_object_object_add(o, "Labels", labels ? json_object_get(labels) : json_object_new_object());
        snprintf(sig, sizeof(sig), "SIG%s",
                 sigabbrev_np((int)container_cfg_int(c, "stopSignal", SIGTERM))
                     ? sigabbrev_np((int)container_cfg_int(c, "stopSignal", SIGTERM))
                     : "TERM");
        json_object_object_add(o, "StopSignal", str(sig));
        json_object_object_add(o, "StopTimeout",
                               json_object_new_int64(container_cfg_int(c, "stopTimeout", 10)));
        return o;
}

static json_object *mounts_json(const struct container *c)
{
        json_object *a = json_object_new_array(), *mounts = get(c->config, "runOpts.mounts");

        for (size_t i = 0;
             json_object_is_type(mounts, json_type_array) && i < json_object_array_length(mounts); i++) {
                json_object *m = json_object_array_get_idx(mounts, i), *o = json_object_new_object();
                bool ro = json_object_get_boolean(get(m, "readonly"));
                json_object_object_add(o, "Type", copy(get(m, "type")));
                if (get(m, "volumeName"))
                        json_object_object_add(o, "Name", copy(get(m, "volumeName")));
                json_object_object_add(o, "Source", str(json_object_get_string(get(m, "source"))));
                json_object_object_add(o, "Destination", copy(get(m, "destination")));
                json_object_object_add(o, "Mode", str(ro ? "ro" : ""));
                json_object_object_add(o, "RW", json_object_new_boolean(!ro));
                json_object_object_add(
                    o, "Propagation",
                    str(get(m, "propagation") ? json_object_get_string(get(m, "propagation"))
                        : streq(json_object_get_string(get(m, "type")), "bind") ? "rprivate"
                                                                                : ""));
                json_object_array_add(a, o);
        }
        return a;
}

static json_object *network_json(struct engine *e, const struct container *c)
{
        json_object *o = json_object_new_object(), *nets = json_object_new_object(),
                    *ports = json_object_new_object();
        json_object *ex = container_cfg(c, "exposedPorts");
        const char *name = json_object_get_string(get(c->config, "network.name"));
        struct network_attachment **v = NULL;
        size_t n = 0;
        _cleanup_berr_ struct berr *err = NULL;

        json_object_object_add(o, "Bridge", str(""));
        json_object_object_add(o, "SandboxKey", str(json_object_get_string(get(c->config, "network.netns"))));
        json_object_object_add(o, "Ports", ports);
        json_object_object_add(o, "IPAddress", str(""));
        json_object_object_add(o, "Gateway", str(""));
        json_object_object_add(o, "MacAddress", str(""));
        if (name && network_attachments_list(&e->net, name, &v, &n, &err) == 0) {
                for (size_t i = 0; i < n; i++) {
                        json_object *m;
                        _cleanup_free_ char *ip = NULL;
                        if (!streq(v[i]->container_id, c->id))
                                continue;
                        m = json_object_new_object();
                        if (v[i]->n_ips) {
                                const char *slash = strchr(v[i]->ips[0].address, '/');
                                ip = strndup(v[i]->ips[0].address, strcspn(v[i]->ips[0].address, "/"));
                                json_object_object_add(m, "IPAddress", str(ip));
                                json_object_object_add(m, "IPPrefixLen",
                                                       json_object_new_int(slash ? atoi(slash + 1) : 0));
                                json_object_object_add(m, "Gateway", str(v[i]->ips[0].gateway));
                                json_object_object_add(o, "IPAddress", str(ip));
                                json_object_object_add(o, "Gateway", str(v[i]->ips[0].gateway));
                        }
                        json_object_object_add(m, "MacAddress", str(v[i]->mac));
                        for (size_t k = 0; k < v[i]->n_ports; k++)
                                port_map_add(ports,
                                             *v[i]->ports[k].host_ip ? v[i]->ports[k].host_ip : "0.0.0.0",
                                             v[i]->ports[k].host_port, v[i]->ports[k].container_port,
                                             v[i]->ports[k].protocol);
                        json_object_object_add(o, "MacAddress", str(v[i]->mac));
                        json_object_object_add(nets, name, m);
                }
                network_attachmentv_free(v, n);
        }
        /* Exposed but not published: null, as docker shows it. */
        for (size_t i = 0; json_object_is_type(ex, json_type_array) && i < json_object_array_length(ex);
             i++) {
                const char *k = json_object_get_string(json_object_array_get_idx(ex, i));
                if (!json_object_object_get_ex(ports, k, NULL))
                        json_object_object_add(ports, k, NULL);
        }
        json_object_object_add(o, "Networks", nets);
        return o;
}

static int inspect_one(struct engine *e, const struct container *c, json_object **out, struct berr **err)
{
        _cleanup_free_ char *dir = engine_container_dir(e, c->id), *buf = NULL, *upper = NULL;
        _cleanup_strv_free_ char **execs = NULL;
        struct container_state st;
        json_object *o, *spec = NULL, *gd, *gdd;
        char name[300];
        size_t len;

        if (!dir)
                return berr_make(err, ENOMEM, "inspect");
        if (container_state_derive(e, c, &st, err) < 0)
                return -1;
        {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/config.json", dir) >= 0 &&
                    read_file_at(AT_FDCWD, path, 16 << 20, &buf, &len, NULL) == 0)
                        json_parse_buf(buf, len, path, &spec, NULL);
        }
        if (exec_session_ids(e->db, c->id, &execs, err) < 0) {
                container_state_done(&st);
                json_object_put(spec);
                return -1;
        }
        o = json_object_new_object();
        json_object_object_add(o, "Id", str(c->id));
        json_object_object_add(o, "Created", time_json(c->created_ns));
        {
                json_object *args = container_cfg(c, "command"), *rest = json_object_new_array();
                size_t n = json_object_is_type(args, json_type_array) ? json_object_array_length(args) : 0;
                json_object_object_add(
                    o, "Path", str(n ? json_object_get_string(json_object_array_get_idx(args, 0)) : ""));
                for (size_t i = 1; i < n; i++)
                        json_object_array_add(rest, json_object_get(json_object_array_get_idx(args, i)));
                json_object_object_add(o, "Args", rest);
        }
        json_object_object_add(o, "State", state_json(&st));
        json_object_object_add(o, "Image", str(c->image_id));
        {
                char p[4096];
                snprintf(p, sizeof(p), "%s/userdata/resolv.conf", dir);
                json_object_object_add(o, "ResolvConfPath", str(p));
                snprintf(p, sizeof(p), "%s/userdata/hostname", dir);
                json_object_object_add(o, "HostnamePath", str(p));
                snprintf(p, sizeof(p), "%s/userdata/hosts", dir);
                json_object_object_add(o, "HostsPath", str(p));
        }
        json_object_object_add(o, "LogPath", str(container_cfg_str(c, "logPath")));
        snprintf(name, sizeof(name), "/%s", c->name);
        json_object_object_add(o, "Name", str(name));
        json_object_object_add(o, "RestartCount", json_object_new_int64(st.restart_count));
        json_object_object_add(o, "Driver", str("overlay"));
        json_object_object_add(o, "Platform", str("linux"));
        json_object_object_add(o, "MountLabel", str(""));
        json_object_object_add(o, "ProcessLabel", str(""));
        json_object_object_add(o, "AppArmorProfile", str(""));
        json_object_object_add(o, "ExecIDs",
                               execs && execs[0] ? engine_json_strv((const char *const *)execs) : NULL);
        json_object_object_add(o, "HostConfig", host_config(c, spec));
        gd = json_object_new_object();
        gdd = json_object_new_object();
        upper = snapshot_rw_upper(e->store, c->id);
        {
                char p[4096];
                json_object_object_add(gdd, "UpperDir", str(upper));
                snprintf(p, sizeof(p), "%s/rw/%s/work", e->store->root, c->id);
                json_object_object_add(gdd, "WorkDir", str(p));
                snprintf(p, sizeof(p), "%s/rw/%s/merged", e->store->root, c->id);
                json_object_object_add(gdd, "MergedDir", str(p));
        }
        json_object_object_add(gd, "Data", gdd);
        json_object_object_add(gd, "Name", str("overlay"));
        json_object_object_add(o, "GraphDriver", gd);
        json_object_object_add(o, "Mounts", mounts_json(c));
        json_object_object_add(o, "Config", config_json(c, spec));
        json_object_object_add(o, "NetworkSettings", network_json(e, c));
        container_state_done(&st);
        json_object_put(spec);
        *out = o;
        return 0;
}

static int inspect(struct berth_ctx *ctx, int argc, char **argv, const char *type)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"format", required_argument, NULL, 'f'},
            {"type", required_argument, NULL, 't'},
            {"size", no_argument, NULL, 's'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        const char *format = NULL;
        struct engine *e;
        json_object *arr;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hf:t:s", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'f':
                        format = optarg;
                        break;
                case 't':
                        if (!streq(optarg, "container") && !streq(optarg, "image"))
                                return berth_usage_error(&usage, "--type: want container or image, not `%s`",
                                                         optarg);
                        type = optarg;
                        break;
                case 's':
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return berth_usage_error(&usage, "\"berth inspect\" requires at least 1 argument");
        if (type && streq(type, "image")) {
                char **args = calloc((size_t)argc + 3, sizeof(char *));
                int n = 0;
                if (!args)
                        return berth_failf(EXIT_BERTH, "out of memory");
                args[n++] = (char *)"inspect";
                if (format) {
                        args[n++] = (char *)"--format";
                        args[n++] = (char *)format;
                }
                for (int i = optind; i < argc; i++)
                        args[n++] = argv[i];
                ret = cmd_image_inspect(ctx, n, args);
                free(args);
                return ret;
        }
        if (berth_engine(ctx, &e, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        arr = json_object_new_array();
        for (int i = optind; i < argc; i++) {
                _cleanup_container_ struct container *ct = NULL;
                json_object *o = NULL;
                int r = container_lookup(e->db, argv[i], &ct, &err);
                if (r == 0) {
                        _cleanup_free_ char *id = NULL;
                        if (!type && images_resolve(e->store, argv[i], &id, &err) > 0) {
                                char *args[5] = {(char *)"inspect"};
                                int n = 1;
                                /* Images print their own document, in order. */
                                if (json_object_array_length(arr) && !format) {
                                        ret = berth_failf(
                                            EXIT_BERTH,
                                            "inspect: mixing containers and images needs --format");
                                        continue;
                                }
                                if (format) {
                                        args[n++] = (char *)"--format";
                                        args[n++] = (char *)format;
                                }
                                args[n++] = argv[i];
                                if (cmd_image_inspect(ctx, n, args) != 0)
                                        ret = EXIT_BERTH;
                                continue;
                        }
                        berr_freep(&err);
                        ret = berth_failf(EXIT_BERTH, "no such object: %s", argv[i]);
                        continue;
                }
                if (r < 0 || inspect_one(e, ct, &o, &err) < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        continue;
                }
                if (format) {
                        if (format_template(format, o, stdout, &err) < 0)
                                ret = berth_fail(&err, EXIT_BERTH);
                        json_object_put(o);
                } else {
                        json_object_array_add(arr, o);
                }
        }
        if (!format && json_object_array_length(arr))
                printf("%s\n", json_to_string(arr, true));
        json_object_put(arr);
        return ret;
}

int cmd_inspect(struct berth_ctx *ctx, int argc, char **argv)
{
        return inspect(ctx, argc, argv, NULL);
}

int cmd_container_inspect(struct berth_ctx *ctx, int argc, char **argv)
{
        return inspect(ctx, argc, argv, "container");
}
