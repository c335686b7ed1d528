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
#include "events.h"
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
        _cleanup_(network_attachment_freep) struct network_attachment *a = NULL;
        struct container_state st = {0};
        struct netinfo ni;
        bool running;
        int r;

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
        r = network_attachment_get(&e->net, ni.name, c->id, NULL, &a, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return -1;
        *out = TAKE_PTR(a->ports);
        *n = a->n_ports;
        a->n_ports = 0;
        return 0;
}

/* ---- /etc/hosts ------------------------------------------------------------------------ */

/*
 * Members of a network find each other by name through /etc/hosts: whenever a
 * container joins or leaves a network, the hosts files of every running member
 * are rewritten from the attachment records. Refreshes hold one lock
 * (<root>/network/hosts.lock) from reading the records to the last write, so
 * of two concurrent ones the later sees both changes. A file is written in
 * place: once the container runs it is bind-mounted by inode.
 */
static int write_hosts(struct engine *e, const struct container *c, const struct network_attachment *a,
                       const struct network_host_entry *peers, size_t n_peers, struct berr **err)
{
        _cleanup_(engine_run_opts_holder_done) struct engine_run_opts_holder h = {0};
        _cleanup_free_ char *content = NULL, *dir = engine_container_dir(e, c->id), *path = NULL;
        _cleanup_free_ struct engine_host_entry *hosts = calloc(n_peers + 1, sizeof(*hosts));
        _cleanup_strv_free_ char **ips = NULL;
        _cleanup_close_ int fd = -1;
        struct engine_spec_ctx ctx = {.id = c->id, .name = c->name};
        const char *hostname = container_cfg_str(c, "hostname");
        size_t n_hosts = 0, len;

        if (!dir || !hosts || !(path = path_join(dir, "userdata/hosts")))
                return berr_make(err, ENOMEM, "hosts");
        if (engine_run_opts_from_json(container_cfg(c, "runOpts"), &h, err) < 0)
                return -1;
        for (size_t i = 0; i < a->n_ips; i++)
                if (strv_push(&ips, strndup(a->ips[i].address, strcspn(a->ips[i].address, "/"))) < 0)
                        return berr_make(err, ENOMEM, "hosts");
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
                return -1;
        fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return berr_errno(err, "open `%s`", path);
        len = strlen(content);
        if (ftruncate(fd, 0) < 0 || pwrite(fd, content, len, 0) != (ssize_t)len)
                return berr_errno(err, "write `%s`", path);
        return 0;
}

static int hosts_lock(struct engine *e, struct berr **err)
{
        _cleanup_free_ char *path = path_join(e->net_state_dir, "hosts.lock");
        int fd;

        if (!path)
                return berr_make(err, ENOMEM, "hosts");
        if (mkdir_p(e->net_state_dir, 0700, err) < 0)
                return -1;
        fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return berr_errno(err, "open `%s`", path);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        berr_errno(err, "lock `%s`", path);
                        return safe_close(fd);
                }
        return fd;
}

/* docker's connect/disconnect events: the network's id, the container and the network's name. */
static void net_event(struct engine *e, const char *action, const char *network, const char *container_id)
{
        _cleanup_free_ char *id = NULL;

        if (network_id(network, &id, NULL) < 0)
                return;
        engine_event_emit(
            e, "network", action, id,
            (const char *const[]){"container", container_id, "name", network, "type", "bridge", NULL});
}

/* Rewrites the hosts files of the running members of a network. self_id's
 * failure is returned; another member's is only logged, as it must not fail
 * this container's start or stop. */
static int refresh_hosts(struct engine *e, const char *network, const char *self_id, struct berr **err)
{
        _cleanup_close_ int lock = hosts_lock(e, err);
        struct network_host_entry *peers = NULL;
        struct network_attachment **v = NULL;
        size_t n = 0, n_peers = 0;
        int ret = 0;

        if (lock < 0)
                return -1;
        if (network_attachments_list(&e->net, network, &v, &n, err) < 0 ||
            network_hosts_collect(&e->net, (const char *const[]){network, NULL}, &peers, &n_peers, err) < 0) {
                network_attachmentv_free(v, n);
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_container_ struct container *c = NULL;
                _cleanup_berr_ struct berr *e2 = NULL;
                bool self = self_id && streq(v[i]->container_id, self_id);
                struct netinfo ni;
                if (!v[i]->complete || container_get(e->db, v[i]->container_id, &c, &e2) <= 0 ||
                    !bridge_info(c, &ni) || !streq(ni.name, network))
                        continue;
                if (write_hosts(e, c, v[i], peers, n_peers, &e2) == 0)
                        continue;
                if (self) {
                        berr_move(err, &e2);
                        ret = -1;
                } else {
                        log_warn("update /etc/hosts of container %s: %s", c->name, e2->msg);
                }
        }
        network_host_entries_free(peers, n_peers);
        network_attachmentv_free(v, n);
        return ret;
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
        network_attachment_free(a);
        net_event(e, "connect", ni.name, c->id);
        if (refresh_hosts(e, ni.name, c->id, err) < 0) {
                engine_network_teardown(e, c, NULL);
                return -1;
        }
        return 0;
}

int engine_network_teardown(struct engine *e, const struct container *c, struct berr **err)
{
        _cleanup_free_ char *nsname = engine_netns_name(c->id);
        _cleanup_berr_ struct berr *e2 = NULL;
        struct netinfo ni;
        int r;

        if (!bridge_info(c, &ni))
                return 0;
        if (!nsname)
                return berr_make(err, ENOMEM, "network");
        /* Teardown runs again after a crash or alongside rm: one event for the one detach. */
        r = network_detach(&e->net, ni.name, c->id, NULL, err);
        if (r < 0)
                return berr_wrap(err, "detach from network %s", ni.name);
        if (r > 0)
                net_event(e, "disconnect", ni.name, c->id);
        /* The container is no member any more: only the others' files change. */
        if (refresh_hosts(e, ni.name, NULL, &e2) < 0)
                log_warn("update /etc/hosts of the containers on %s: %s", ni.name, e2->msg);
        return network_netns_remove(&e->net, nsname, err);
}
