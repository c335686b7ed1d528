/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's network at start and cleanup. bridge and user networks get a
 * network namespace (created here, joined by the runtime through the path in
 * config.json) attached with CNI; none and host need nothing, and
 * container:X shares X's. Port mappings go to CNI's portmap plugin through
 * the attach options; the members of a network know each other by name through
 * their /etc/hosts files, rewritten whenever one joins or leaves.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "lifecycle.h"
#include "spec-internal.h"

struct netinfo {
        const char *mode, *name, *netns;
};

static bool bridge_info(const struct container *c, struct netinfo *ni)
{
        json_object *net = container_cfg(c, "network"), *v;

        *ni = (struct netinfo){0};
        if (!net)
                return false;
        if (json_object_object_get_ex(net, "mode", &v))
                ni->mode = json_object_get_string(v);
        if (json_object_object_get_ex(net, "name", &v))
                ni->name = json_object_get_string(v);
        if (json_object_object_get_ex(net, "netns", &v))
                ni->netns = json_object_get_string(v);
        return ni->mode && streq(ni->mode, "bridge") && ni->name && ni->netns;
}

/* ---- port mappings ---------------------------------------------------------------- */

static json_object *port_json(const struct network_port *p)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "hostIp", json_object_new_string(p->host_ip));
        json_object_object_add(o, "hostPort", json_object_new_int(p->host_port));
        json_object_object_add(o, "hostPortEnd", json_object_new_int(p->host_port_end));
        json_object_object_add(o, "containerPort", json_object_new_int(p->container_port));
        json_object_object_add(o, "protocol", json_object_new_string(p->protocol));
        return o;
}

/* The record's "ports" (what create stored) back into mappings. */
static int ports_of(const struct container *c, struct network_port **out, size_t *n, struct berr **err)
{
        json_object *arr = container_cfg(c, "ports");
        size_t len = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
        struct network_port *v;

        *out = NULL;
        *n = 0;
        if (len == 0)
                return 0;
        v = calloc(len, sizeof(*v));
        if (!v)
                return berr_make(err, ENOMEM, "port mappings");
        for (size_t i = 0; i < len; i++) {
                json_object *o = json_object_array_get_idx(arr, i), *x;
                if (json_object_object_get_ex(o, "hostIp", &x))
                        snprintf(v[i].host_ip, sizeof(v[i].host_ip), "%s", json_object_get_string(x));
                if (json_object_object_get_ex(o, "hostPort", &x))
                        v[i].host_port = (uint16_t)json_object_get_int(x);
                if (json_object_object_get_ex(o, "hostPortEnd", &x))
                        v[i].host_port_end = (uint16_t)json_object_get_int(x);
                if (json_object_object_get_ex(o, "containerPort", &x))
                        v[i].container_port = (uint16_t)json_object_get_int(x);
                if (json_object_object_get_ex(o, "protocol", &x))
                        snprintf(v[i].protocol, sizeof(v[i].protocol), "%s", json_object_get_string(x));
        }
        *out = v;
        *n = len;
        return 0;
}

static bool exposed_has(json_object *exposed, const char *key)
{
        for (size_t i = 0; i < json_object_array_length(exposed); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(exposed, i)), key))
                        return true;
        return false;
}

/* Adds "PORT/PROTO" for every port of the mappings to the exposed list (docker exposes what -p publishes). */
static void expose_ports(json_object *exposed, const struct network_port *p, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                char key[32];
                snprintf(key, sizeof(key), "%u/%s", p[i].container_port, p[i].protocol);
                if (!exposed_has(exposed, key))
                        json_object_array_add(exposed, json_object_new_string(key));
        }
}

int engine_ports_prepare(const struct engine_create_opts *o, const struct engine_image_config *img,
                         bool bridge, const char *mode, json_object *cfg, struct berr **err)
{
        _cleanup_free_ struct network_port *ports = NULL, *exposed_ports = NULL;
        size_t n = 0, n_exposed = 0;
        json_object *arr, *exposed;

        for (const char *const *p = o->publish; p && *p; p++)
                if (network_port_parse(*p, &ports, &n, err) < 0)
                        return berr_wrap(err, "-p");
        if (n && !bridge)
                return eng_err(err, EINVAL,
                               "-p: port mappings need a bridge network; the container's network is %s",
                               mode);
        /* The image's EXPOSE and --expose: inspect shows them, -P publishes them. */
        STRV_FOREACH (p, img->exposed_ports)
                if (network_port_parse_exposed(*p, &exposed_ports, &n_exposed, err) < 0)
                        return berr_wrap(err, "image");
        for (const char *const *p = o->expose; p && *p; p++)
                if (network_port_parse_exposed(*p, &exposed_ports, &n_exposed, err) < 0)
                        return berr_wrap(err, "--expose");
        exposed = json_object_new_array();
        expose_ports(exposed, exposed_ports, n_exposed);
        expose_ports(exposed, ports, n);
        json_object_object_add(cfg, "exposedPorts", exposed);
        arr = json_object_new_array();
        for (size_t i = 0; i < n; i++)
                json_object_array_add(arr, port_json(&ports[i]));
        /* -P: each exposed port not mapped by -p gets a free host port. */
        for (size_t i = 0; o->publish_all && bridge && i < n_exposed; i++) {
                bool mapped = false;
                for (size_t j = 0; j < n && !mapped; j++)
                        mapped = ports[j].container_port == exposed_ports[i].container_port &&
                                 streq(ports[j].protocol, exposed_ports[i].protocol);
                if (!mapped)
                        json_object_array_add(arr, port_json(&exposed_ports[i]));
        }
        json_object_object_add(cfg, "ports", arr);
        json_object_object_add(cfg, "publishAll", json_object_new_boolean(o->publish_all));
        return 0;
}

int engine_container_ports(struct engine *e, const struct container *c, struct network_port **out, size_t *n,
                           struct berr **err)
{
        struct network_attachment **v = NULL;
        size_t n_att = 0;
        struct container_state st = {0};
        struct netinfo ni;
        bool running;

        *out = NULL;
        *n = 0;
        if (!bridge_info(c, &ni))
                return 0;
        /* A stopped container's record may linger until its cleanup ran: it publishes nothing. */
        if (container_state_derive(e, c, &st, err) < 0)
                return -1;
        running = st.status == CONTAINER_RUNNING || st.status == CONTAINER_PAUSED;
        container_state_done(&st);
        if (!running)
                return 0;
        if (network_attachments_list(&e->net, ni.name, &v, &n_att, err) < 0)
                return -1;
        for (size_t i = 0; i < n_att; i++)
                if (streq(v[i]->container_id, c->id) && v[i]->n_ports) {
                        *out = TAKE_PTR(v[i]->ports);
                        *n = v[i]->n_ports;
                        v[i]->n_ports = 0;
                        break;
                }
        network_attachmentv_free(v, n_att);
        return 0;
}

/* ---- /etc/hosts ------------------------------------------------------------------------ */

/*
 * Members of a network find each other by name through /etc/hosts: whenever a
 * container joins or leaves a network, the hosts files of every running member
 * are rewritten from the attachment records. The file is written in place
 * (once the container runs it is bind-mounted by inode) under a flock of the
 * file itself, and its content is computed while the lock is held: of two
 * concurrent updates the later one sees both changes.
 */
static int write_hosts(struct engine *e, const struct container *c, const char *network,
                       const struct network_attachment *a, struct berr **err)
{
        _cleanup_(engine_run_opts_holder_done) struct engine_run_opts_holder h = {0};
        _cleanup_free_ char *content = NULL, *dir = engine_container_dir(e, c->id), *path = NULL;
        _cleanup_strv_free_ char **ips = NULL;
        _cleanup_close_ int fd = -1;
        struct network_host_entry *peers = NULL;
        struct engine_host_entry *hosts = NULL;
        struct engine_spec_ctx ctx = {.id = c->id, .name = c->name};
        const char *hostname = container_cfg_str(c, "hostname");
        size_t n_peers = 0, n_hosts = 0, len;
        int r = -1;

        if (!dir || !(path = path_join(dir, "userdata/hosts")))
                return berr_make(err, ENOMEM, "hosts");
        if (engine_run_opts_from_json(container_cfg(c, "runOpts"), &h, err) < 0)
                return -1;
        for (size_t i = 0; i < a->n_ips; i++)
                if (strv_push(&ips, strndup(a->ips[i].address, strcspn(a->ips[i].address, "/"))) < 0)
                        return berr_make(err, ENOMEM, "hosts");
        fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return berr_errno(err, "open `%s`", path);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return berr_errno(err, "lock `%s`", path);
        if (network_hosts_collect(&e->net, (const char *const[]){network, NULL}, &peers, &n_peers, err) < 0)
                return -1;
        hosts = calloc(n_peers + 1, sizeof(*hosts));
        if (!hosts) {
                berr_make(err, ENOMEM, "hosts");
                goto out;
        }
        for (size_t i = 0; i < n_peers; i++) {
                bool self = false;
                STRV_FOREACH (ip, ips)
                        self |= streq(*ip, peers[i].ip);
                if (!self)
                        hosts[n_hosts++] =
                            (struct engine_host_entry){peers[i].ip, (const char *const *)peers[i].names};
        }
        ctx.ips = (const char *const *)ips;
        ctx.hosts = hosts;
        ctx.n_hosts = n_hosts;
        if (a->n_ips && a->ips[0].gateway)
                ctx.host_gateway = a->ips[0].gateway;
        if (engine_hosts_render(&h.opts, &ctx, hostname ? hostname : c->id, false, &content, err) < 0)
                goto out;
        len = strlen(content);
        if (ftruncate(fd, 0) < 0 || pwrite(fd, content, len, 0) != (ssize_t)len) {
                berr_errno(err, "write `%s`", path);
                goto out;
        }
        r = 0;
out:
        free(hosts);
        network_host_entries_free(peers, n_peers);
        return r;
}

/* Rewrites the hosts files of the members of a network other than skip_id. A
 * member's failure is only logged: it must not fail another container's start or stop. */
static void refresh_members(struct engine *e, const char *network, const char *skip_id)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct network_attachment **v = NULL;
        size_t n = 0;

        if (network_attachments_list(&e->net, network, &v, &n, &err) < 0) {
                log_warn("update /etc/hosts of the containers on %s: %s", network, err->msg);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_container_ struct container *c = NULL;
                struct netinfo ni;
                if (streq(v[i]->container_id, skip_id) ||
                    container_get(e->db, v[i]->container_id, &c, &err) <= 0 || !bridge_info(c, &ni) ||
                    !streq(ni.name, network)) {
                        berr_freep(&err);
                        continue;
                }
                if (write_hosts(e, c, network, v[i], &err) < 0) {
                        log_warn("update /etc/hosts of container %s: %s", c->name, err->msg);
                        berr_freep(&err);
                }
        }
        network_attachmentv_free(v, n);
}

int engine_network_setup(struct engine *e, const struct container *c, struct berr **err)
{
        _cleanup_free_ char *nsname = engine_netns_name(c->id), *path = NULL;
        _cleanup_free_ struct network_port *ports = NULL;
        struct network_attachment *a = NULL;
        struct network_attach_opts ao;
        struct netinfo ni;
        _cleanup_berr_ struct berr *e2 = NULL;
        size_t n_ports = 0;

        if (!bridge_info(c, &ni))
                return 0;
        if (!nsname)
                return berr_make(err, ENOMEM, "network");
        if (ports_of(c, &ports, &n_ports, err) < 0)
                return -1;
        /* Leftovers of a crash are replaced. */
        if (network_detach(&e->net, ni.name, c->id, NULL, &e2) < 0)
                berr_freep(&e2);
        network_netns_remove(&e->net, nsname, NULL);
        if (network_netns_create(&e->net, nsname, &path, err) < 0)
                return -1;
        if (!streq(path, ni.netns)) {
                network_netns_remove(&e->net, nsname, NULL);
                return eng_err(err, EINVAL,
                               "network namespace `%s` is not where the bundle expects it (`%s`)", path,
                               ni.netns);
        }
        ao = (struct network_attach_opts){
            .container_id = c->id,
            .container_name = c->name,
            .netns = path,
            .ports = ports,
            .n_ports = n_ports,
        };
        if (network_attach(&e->net, ni.name, &ao, &a, err) < 0) {
                network_netns_remove(&e->net, nsname, NULL);
                return berr_wrap(err, "attach to network %s", ni.name);
        }
        if (write_hosts(e, c, ni.name, a, err) < 0) {
                network_attachment_free(a);
                engine_network_teardown(e, c, NULL);
                return -1;
        }
        network_attachment_free(a);
        refresh_members(e, ni.name, c->id);
        return 0;
}

int engine_network_teardown(struct engine *e, const struct container *c, struct berr **err)
{
        _cleanup_free_ char *nsname = engine_netns_name(c->id);
        struct netinfo ni;

        if (!bridge_info(c, &ni))
                return 0;
        if (!nsname)
                return berr_make(err, ENOMEM, "network");
        if (network_detach(&e->net, ni.name, c->id, NULL, err) < 0)
                return berr_wrap(err, "detach from network %s", ni.name);
        refresh_members(e, ni.name, c->id);
        return network_netns_remove(&e->net, nsname, err);
}
