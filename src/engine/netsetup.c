/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's network at start and cleanup. bridge and user networks get a
 * network namespace (created here, joined by the runtime through the path in
 * config.json) attached with CNI; none and host need nothing, and
 * container:X shares X's. Port mappings and peers' /etc/hosts updates plug in
 * here (engine_network_setup's attach options and the hosts step).
 */
#include <fcntl.h>
#include <string.h>

#include "basic/fileio.h"
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

/* The container's /etc/hosts with its addresses and the other members of its network. */
static int write_hosts(struct engine *e, const struct container *c, const struct netinfo *ni,
                       const struct network_attachment *a, struct berr **err)
{
        _cleanup_(engine_run_opts_holder_done) struct engine_run_opts_holder h = {0};
        _cleanup_free_ char *content = NULL, *dir = engine_container_dir(e, c->id), *path = NULL;
        _cleanup_strv_free_ char **ips = NULL;
        struct network_host_entry *peers = NULL;
        struct engine_host_entry *hosts = NULL;
        struct engine_spec_ctx ctx = {.id = c->id, .name = c->name};
        const char *hostname = container_cfg_str(c, "hostname");
        size_t n_peers = 0, n_hosts = 0;
        int r = -1;

        if (!dir || !(path = path_join(dir, "userdata/hosts")))
                return berr_make(err, ENOMEM, "hosts");
        if (engine_run_opts_from_json(container_cfg(c, "runOpts"), &h, err) < 0)
                return -1;
        for (size_t i = 0; i < a->n_ips; i++)
                if (strv_push(&ips, strndup(a->ips[i].address, strcspn(a->ips[i].address, "/"))) < 0)
                        return berr_make(err, ENOMEM, "hosts");
        if (network_hosts_collect(&e->net, (const char *const[]){ni->name, NULL}, &peers, &n_peers, err) < 0)
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
                        hosts[n_hosts++] = (struct engine_host_entry){peers[i].ip, (const char *const *)peers[i].names};
        }
        ctx.ips = (const char *const *)ips;
        ctx.hosts = hosts;
        ctx.n_hosts = n_hosts;
        if (a->n_ips && a->ips[0].gateway)
                ctx.host_gateway = a->ips[0].gateway;
        if (engine_hosts_render(&h.opts, &ctx, hostname ? hostname : c->id, false, &content, err) < 0)
                goto out;
        /* In place: once the container runs, the file is bind-mounted by inode. */
        r = write_file_at(AT_FDCWD, path, content, strlen(content), O_CREAT | O_TRUNC, 0644, err);
out:
        free(hosts);
        network_host_entries_free(peers, n_peers);
        return r;
}

int engine_network_setup(struct engine *e, const struct container *c, struct berr **err)
{
        _cleanup_free_ char *nsname = engine_netns_name(c->id), *path = NULL;
        struct network_attachment *a = NULL;
        struct network_attach_opts ao;
        struct netinfo ni;
        _cleanup_berr_ struct berr *e2 = NULL;

        if (!bridge_info(c, &ni))
                return 0;
        if (!nsname)
                return berr_make(err, ENOMEM, "network");
        /* Leftovers of a crash are replaced. */
        if (network_detach(&e->net, ni.name, c->id, NULL, &e2) < 0)
                berr_freep(&e2);
        network_netns_remove(&e->net, nsname, NULL);
        if (network_netns_create(&e->net, nsname, &path, err) < 0)
                return -1;
        if (!streq(path, ni.netns)) {
                network_netns_remove(&e->net, nsname, NULL);
                return eng_err(err, EINVAL, "network namespace `%s` is not where the bundle expects it (`%s`)", path,
                               ni.netns);
        }
        ao = (struct network_attach_opts){
                .container_id = c->id,
                .container_name = c->name,
                .netns = path,
        };
        if (network_attach(&e->net, ni.name, &ao, &a, err) < 0) {
                network_netns_remove(&e->net, nsname, NULL);
                return berr_wrap(err, "attach to network %s", ni.name);
        }
        if (write_hosts(e, c, &ni, a, err) < 0) {
                network_attachment_free(a);
                engine_network_teardown(e, c, NULL);
                return -1;
        }
        network_attachment_free(a);
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
        return network_netns_remove(&e->net, nsname, err);
}
