/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "basic/json.h"
#include "basic/strv.h"
#include "network-internal.h"

#define CNI_ARGS_MAX     64
#define CNI_ARGS_LEN_MAX 4096

static void json_putp(json_object **o)
{
        json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

/* CNI_ARGS as libcni callers send it: IgnoreUnknown first so plugins skip what they do not know. */
static int build_cni_args(const struct network_attach_opts *opts, const char *name, char **out,
                          struct berr **err)
{
        _cleanup_free_ char *s = NULL;
        size_t count = 0;

        if (asprintf(&s, "IgnoreUnknown=1;K8S_POD_NAME=%s;K8S_POD_INFRA_CONTAINER_ID=%s", name,
                     opts->container_id) < 0)
                return berr_make(err, ENOMEM, "CNI_ARGS");
        if (opts->static_ip) {
                char *t;
                if (asprintf(&t, "%s;IP=%s", s, opts->static_ip) < 0)
                        return berr_make(err, ENOMEM, "CNI_ARGS");
                free(s);
                s = t;
        }
        for (const char *const *a = opts->cni_args; a && *a; a++) {
                const char *eq = strchr(*a, '=');
                char *t;

                if (++count > CNI_ARGS_MAX)
                        return net_err(err, E2BIG, "more than %d CNI arguments", CNI_ARGS_MAX);
                if (!eq || eq == *a || strchr(*a, ';') || strchr(eq + 1, '='))
                        return net_err(err, EINVAL,
                                       "invalid CNI argument `%s`: expected KEY=VALUE without ';'", *a);
                if (asprintf(&t, "%s;%s", s, *a) < 0)
                        return berr_make(err, ENOMEM, "CNI_ARGS");
                free(s);
                s = t;
        }
        if (strlen(s) > CNI_ARGS_LEN_MAX)
                return net_err(err, E2BIG, "CNI_ARGS longer than %d bytes", CNI_ARGS_LEN_MAX);
        *out = TAKE_PTR(s);
        return 0;
}

static int check_opts(const struct network_attach_opts *opts, const char *ifname, struct berr **err)
{
        int r;

        r = name_check("container id", opts->container_id, err);
        if (r >= 0 && opts->container_name && !hostname_valid(opts->container_name))
                r = net_err(err, EINVAL, "container name `%s` is not a valid host name",
                            opts->container_name);
        if (r >= 0)
                r = ifname_check(ifname, err);
        if (r < 0)
                return r;
        if (strempty(opts->netns))
                return net_err(err, EINVAL, "a network namespace path is needed");
        if (!path_is_netns(opts->netns))
                return net_err(err, EINVAL, "`%s` is not a network namespace", opts->netns);
        if (opts->n_ports > NETWORK_PORTS_MAX)
                return net_err(err, E2BIG, "more than %d port mappings", NETWORK_PORTS_MAX);
        return 0;
}

static int check_static_ip(const struct network *net, const char *ip, struct berr **err)
{
        _cleanup_free_ struct ip_prefix *p = NULL;
        struct ip_addr a;
        size_t n;

        if (ip_addr_parse(ip, &a) < 0)
                return net_err(err, EINVAL, "`%s` is not an IP address", ip);
        if (network_prefixes(net, &p, &n, err) < 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (ip_prefix_contains(&p[i], &a) && !ip_prefix_is_reserved(&p[i], &a))
                        return 0;
        return net_err(err, EINVAL, "address %s is not in a subnet of network `%s`", ip, net->name);
}

static json_object *new_record(const char *network, const struct network_attach_opts *opts, const char *name,
                               const char *ifname, const char *args, json_object *conf,
                               const struct network_port *ports, size_t n_ports)
{
        json_object *rec = json_object_new_object();

        if (!rec)
                return NULL;
        json_object_object_add(rec, "network", json_object_new_string(network));
        json_object_object_add(rec, "containerId", json_object_new_string(opts->container_id));
        json_object_object_add(rec, "containerName", json_object_new_string(name));
        json_object_object_add(rec, "ifName", json_object_new_string(ifname));
        json_object_object_add(rec, "netns", json_object_new_string(opts->netns));
        json_object_object_add(rec, "cniArgs", json_object_new_string(args));
        json_object_object_add(rec, "config", json_object_get(conf));
        if (n_ports > 0) {
                json_object *rc = json_object_new_object();
                json_object_object_add(rc, "portMappings", ports_to_json(ports, n_ports));
                json_object_object_add(rec, "runtimeConfig", rc);
        }
        return rec;
}

static const char *rec_str(json_object *rec, const char *key)
{
        json_object *v;

        return json_object_object_get_ex(rec, key, &v) && json_object_is_type(v, json_type_string)
                   ? json_object_get_string(v)
                   : "";
}

static json_object *rec_obj(json_object *rec, const char *key)
{
        json_object *v;

        return json_object_object_get_ex(rec, key, &v) && json_object_is_type(v, json_type_object) ? v : NULL;
}

/* The call a record describes; a netns that is gone is passed as "" (allowed for DEL). */
static void record_call(const struct network_env *env, json_object *rec, const char *command,
                        struct cni_call *call)
{
        const char *netns = rec_str(rec, "netns");

        *call = (struct cni_call){
            .command = command,
            .container_id = rec_str(rec, "containerId"),
            .netns = streq(command, "DEL") && !path_is_netns(netns) ? "" : netns,
            .ifname = rec_str(rec, "ifName"),
            .args = rec_str(rec, "cniArgs"),
            .cni_path = env_cni_path(env),
            .timeout = env_plugin_timeout(env),
        };
}

/* DEL from a record: prevResult is the ADD result, or what a failed ADD got to. */
static int del_record(const struct network_env *env, json_object *rec, struct berr **err)
{
        json_object *prev = rec_obj(rec, "result");
        struct cni_call call;
        int r;

        record_call(env, rec, "DEL", &call);
        prev = prev ? prev : rec_obj(rec, "partialResult");
        r = cni_list_run(&call, rec_obj(rec, "config"), rec_obj(rec, "runtimeConfig"), prev, NULL, err);
        if (r >= 0)
                r = ipmasq_teardown(rec_obj(rec, "config"), call.container_id, prev, err);
        if (r < 0)
                return r;
        return record_remove(env, rec_str(rec, "network"), rec_str(rec, "containerId"),
                             rec_str(rec, "ifName"), err);
}

struct progress {
        const struct network_env *env;
        json_object *rec;
};

/* After every plugin: a crash before the end leaves the result so far for DEL
 * (the firewall plugin, for one, needs the addresses to remove its rules). */
static int save_progress(json_object *result, void *userdata, struct berr **err)
{
        struct progress *p = userdata;

        json_object_object_add(p->rec, "partialResult", json_object_get(result));
        return record_write(p->env, p->rec, err);
}

static int run_add(const struct network_env *env, json_object *rec, struct berr **err)
{
        struct progress progress = {env, rec};
        struct cni_call call;
        json_object *result = NULL;
        struct berr *rb = NULL;
        int r;

        record_call(env, rec, "ADD", &call);
        call.progress = save_progress;
        call.userdata = &progress;
        r = cni_list_run(&call, rec_obj(rec, "config"), rec_obj(rec, "runtimeConfig"), NULL, &result, err);
        if (r >= 0) {
                json_object_object_del(rec, "partialResult");
                json_object_object_add(rec, "result", result);
                r = record_write(env, rec, err);
                if (r >= 0)
                        return 0;
                result = json_object_get(result);
                json_object_object_del(rec, "result");
        }
        /* Undo what the plugins did before the failure: DEL is what the spec offers. */
        if (result)
                json_object_object_add(rec, "partialResult", result);
        if (del_record(env, rec, &rb) < 0) {
                char *msg;
                if (err && *err &&
                    asprintf(&msg, "%s (cleanup failed too, the record stays for a later detach: %s)",
                             (*err)->msg, rb && rb->msg ? rb->msg : "?") >= 0) {
                        free((*err)->msg);
                        (*err)->msg = msg;
                }
                berr_free(rb);
                (void)record_write(env, rec, NULL);
        }
        return r;
}

int network_attach(const struct network_env *env, const char *network, const struct network_attach_opts *opts,
                   struct network_attachment **out, struct berr **err)
{
        _cleanup_(network_freep) struct network *net = NULL;
        _cleanup_json_ json_object *conf = NULL, *rec = NULL, *existing = NULL;
        _cleanup_free_ struct network_port *ports = NULL;
        _cleanup_free_ char *args = NULL;
        _cleanup_close_ int lock = -1;
        const char *ifname = opts->ifname ? opts->ifname : "eth0";
        const char *name = opts->container_name ? opts->container_name : opts->container_id;
        int *fds = NULL;
        size_t n_fds = 0;
        int r;

        r = name_check("network name", network, err);
        if (r >= 0)
                r = check_opts(opts, ifname, err);
        if (r >= 0)
                r = build_cni_args(opts, name, &args, err);
        if (r < 0)
                return r;
        if (opts->n_ports) {
                ports = calloc(opts->n_ports, sizeof(*ports));
                if (!ports)
                        return berr_make(err, ENOMEM, "attach");
                memcpy(ports, opts->ports, opts->n_ports * sizeof(*ports));
        }

        r = env_lock(env, &lock, err);
        if (r < 0)
                return r;
        r = network_load_locked(env, network, &conf, &net, err);
        if (r < 0)
                return r;
        r = record_read(env, network, opts->container_id, ifname, &existing, err);
        if (r == 0)
                return net_err(err, EEXIST, "container %s is already attached to network `%s` as %s",
                               opts->container_id, network, ifname);
        if (r != -ENOENT)
                return r;
        if (net->internal && opts->n_ports)
                return net_err(err, EINVAL, "network `%s` is internal: ports cannot be published", network);
        if (opts->static_ip && check_static_ip(net, opts->static_ip, err) < 0)
                return -EINVAL;
        r = cni_list_check_plugins(conf, env_cni_path(env), err);
        if (r < 0)
                return berr_wrap(err, "network `%s`", network);
        r = ports_allocate_locked(env, ports, opts->n_ports, opts->reserve_ports ? &fds : NULL, &n_fds, err);
        if (r < 0)
                return r;
        /* On disk before any plugin runs: a crash from here on leaves what DEL needs. */
        rec = new_record(network, opts, name, ifname, args, conf, ports, opts->n_ports);
        r = rec ? record_write(env, rec, err) : berr_make(err, ENOMEM, "attach");
        lock = safe_close(lock);
        if (r >= 0)
                r = run_add(env, rec, err);
        if (r >= 0 && record_to_attachment(rec, out, err) < 0) {
                (void)del_record(env, rec, NULL);
                r = -EINVAL;
        }
        if (r < 0) {
                close_fds(fds, n_fds);
                return berr_wrap(err, "attach container %s to network `%s`", opts->container_id, network);
        }
        (*out)->port_fds = fds;
        (*out)->n_port_fds = n_fds;
        return 0;
}

static int check_ids(const char *network, const char *container_id, const char *ifname, struct berr **err)
{
        int r = name_check("network name", network, err);

        if (r >= 0)
                r = name_check("container id", container_id, err);
        if (r >= 0)
                r = ifname_check(ifname, err);
        return r;
}

int network_attachment_get(const struct network_env *env, const char *network, const char *container_id,
                           const char *ifname, struct network_attachment **out, struct berr **err)
{
        _cleanup_json_ json_object *rec = NULL;
        int r;

        ifname = ifname ? ifname : "eth0";
        r = check_ids(network, container_id, ifname, err);
        if (r < 0)
                return r;
        r = record_read(env, network, container_id, ifname, &rec, err);
        if (r < 0)
                return r;
        return record_to_attachment(rec, out, err);
}

int network_detach(const struct network_env *env, const char *network, const char *container_id,
                   const char *ifname, struct berr **err)
{
        _cleanup_json_ json_object *rec = NULL;
        int r;

        ifname = ifname ? ifname : "eth0";
        r = check_ids(network, container_id, ifname, err);
        if (r < 0)
                return r;
        r = record_read(env, network, container_id, ifname, &rec, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = del_record(env, rec, err);
        return r < 0 ? berr_wrap(err, "detach container %s from network `%s`", container_id, network) : 1;
}

int network_check(const struct network_env *env, const char *network, const char *container_id,
                  const char *ifname, struct berr **err)
{
        _cleanup_json_ json_object *rec = NULL;
        json_object *conf, *v;
        struct cni_call call;
        int r;

        ifname = ifname ? ifname : "eth0";
        r = check_ids(network, container_id, ifname, err);
        if (r < 0)
                return r;
        r = record_read(env, network, container_id, ifname, &rec, err);
        if (r == -ENOENT)
                return net_err(err, ENOENT, "container %s is not attached to network `%s` as %s",
                               container_id, network, ifname);
        if (r < 0)
                return r;
        if (!rec_obj(rec, "result"))
                return net_err(err, EINVAL, "container %s: ADD on network `%s` never completed", container_id,
                               network);
        conf = rec_obj(rec, "config");
        if (json_object_object_get_ex(conf, "disableCheck", &v) && json_object_get_boolean(v))
                return 0;
        if (!json_object_object_get_ex(conf, "cniVersion", &v) ||
            cni_version_cmp(json_object_get_string(v), "0.4.0") < 0)
                return net_err(err, ENOTSUP, "network `%s`: CHECK needs cniVersion 0.4.0 or later", network);
        record_call(env, rec, "CHECK", &call);
        if (!path_is_netns(call.netns))
                return net_err(err, ENOENT, "container %s: network namespace `%s` is gone", container_id,
                               call.netns);
        r = cni_list_run(&call, conf, rec_obj(rec, "runtimeConfig"), rec_obj(rec, "result"), NULL, err);
        return r < 0 ? berr_wrap(err, "check container %s on network `%s`", container_id, network) : 0;
}

int network_attachments_list(const struct network_env *env, const char *network,
                             struct network_attachment ***out, size_t *n, struct berr **err)
{
        json_object **recs = NULL;
        struct network_attachment **v = NULL;
        size_t n_recs = 0, count = 0;
        int r;

        if (network && name_check("network name", network, err) < 0)
                return -EINVAL;
        r = record_list(env, network, &recs, &n_recs, err);
        if (r < 0)
                return r;
        v = calloc(n_recs + 1, sizeof(*v));
        if (!v)
                r = berr_make(err, ENOMEM, "attachments");
        for (size_t i = 0; r >= 0 && i < n_recs; i++) {
                r = record_to_attachment(recs[i], &v[count], err);
                if (r >= 0)
                        count++;
        }
        record_listv_free(recs, n_recs);
        if (r < 0) {
                network_attachmentv_free(v, count);
                return r;
        }
        *out = v;
        *n = count;
        return 0;
}
