/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "network-internal.h"

#define NETWORKS_MAX  4096
#define SUBNETS_MAX   16
#define LABELS_MAX    256
#define LABEL_KEY_MAX 256
#define LABEL_VAL_MAX 4096
/* Automatic subnets: 10.89.N.0/24 for N in 1..255 (10.89.0.0/24 is the default network's). */
#define AUTO_SUBNET_FMT "10.89.%u.0/24"

static const char *const reserved_names[] = {"none", "host", "bridge", "container", "private", "default"};

static char *conflist_path(const struct network_env *env, const char *name)
{
        char *p;

        if (asprintf(&p, "%s/%s.conflist", env_config_dir(env), name) < 0)
                return NULL;
        return p;
}

int network_mode_parse(const struct network_env *env, const char *arg, enum network_mode *mode,
                       char **network, struct berr **err)
{
        *network = NULL;
        if (strempty(arg) || streq(arg, "bridge") || streq(arg, "default")) {
                *mode = NETWORK_MODE_BRIDGE;
                *network = strdup(env_default_name(env));
                return *network ? 0 : berr_make(err, ENOMEM, "--network");
        }
        if (streq(arg, "none") || streq(arg, "host")) {
                *mode = streq(arg, "none") ? NETWORK_MODE_NONE : NETWORK_MODE_HOST;
                return 0;
        }
        if (name_check("network name", arg, err) < 0)
                return berr_wrap(err, "--network %s: expected none, host, bridge or a network name", arg);
        *mode = NETWORK_MODE_BRIDGE;
        *network = strdup(arg);
        return *network ? 0 : berr_make(err, ENOMEM, "--network");
}

static int cmp_network(const void *a, const void *b)
{
        return strcmp((*(struct network *const *)a)->name, (*(struct network *const *)b)->name);
}

/* Networks on disk; files that do not load go to *warnings (may be NULL). */
static int load_all(const struct network_env *env, struct network ***out, size_t *n, char ***warnings,
                    struct berr **err)
{
        _cleanup_closedir_ DIR *d = opendir(env_config_dir(env));
        struct network **v = NULL;
        size_t count = 0;
        struct dirent *de;
        int r = 0;

        *out = NULL;
        *n = 0;
        if (!d)
                return errno == ENOENT ? 0 : berr_errno(err, "open `%s`", env_config_dir(env));
        while ((errno = 0, de = readdir(d))) {
                _cleanup_free_ char *p = NULL;
                struct berr *e = NULL;
                struct network *net = NULL, **nv;
                size_t len = strlen(de->d_name);

                if (de->d_name[0] == '.' || len <= 9 || !streq(de->d_name + len - 9, ".conflist"))
                        continue;
                if (count >= NETWORKS_MAX) {
                        r = net_err(err, E2BIG, "`%s` holds more than %d networks", env_config_dir(env),
                                    NETWORKS_MAX);
                        break;
                }
                p = path_join(env_config_dir(env), de->d_name);
                if (!p) {
                        r = berr_make(err, ENOMEM, "list networks");
                        break;
                }
                if (conflist_load(p, NULL, &net, &e) < 0) {
                        if (warnings && strv_extend(warnings, e && e->msg ? e->msg : p) < 0)
                                r = berr_make(err, ENOMEM, "list networks");
                        berr_free(e);
                        if (r < 0)
                                break;
                        continue;
                }
                nv = realloc(v, (count + 1) * sizeof(*v));
                if (!nv) {
                        network_free(net);
                        r = berr_make(err, ENOMEM, "list networks");
                        break;
                }
                v = nv;
                v[count++] = net;
        }
        if (r == 0 && errno)
                r = berr_errno(err, "read `%s`", env_config_dir(env));
        if (r < 0) {
                network_freev(v, count);
                return r;
        }
        if (count)
                qsort(v, count, sizeof(*v), cmp_network);
        *out = v;
        *n = count;
        return 0;
}

int network_list(const struct network_env *env, struct network ***out, size_t *n, char ***warnings,
                 struct berr **err)
{
        return load_all(env, out, n, warnings, err);
}

/* Refuses a subnet that overlaps another network or an address of the host. */
static int check_overlaps(const struct ip_prefix *p, struct network *const *nets, size_t n_nets,
                          const struct ip_prefix *host, char *const *host_links, size_t n_host,
                          struct berr **err)
{
        char a[IP_STRLEN], b[IP_STRLEN];

        ip_prefix_format(p, a);
        for (size_t i = 0; i < n_nets; i++) {
                for (size_t j = 0; j < nets[i]->n_subnets; j++) {
                        struct ip_prefix q;
                        if (ip_prefix_parse(nets[i]->subnets[j].subnet, &q, NULL) < 0 ||
                            !ip_prefix_overlaps(p, &q))
                                continue;
                        return net_err(err, EEXIST, "subnet %s overlaps subnet %s of network `%s`", a,
                                       nets[i]->subnets[j].subnet, nets[i]->name);
                }
        }
        for (size_t i = 0; i < n_host; i++) {
                if (!ip_prefix_overlaps(p, &host[i]))
                        continue;
                ip_addr_format(&host[i].addr, b);
                return net_err(err, EEXIST, "subnet %s overlaps address %s/%u of host interface `%s`", a, b,
                               host[i].len, host_links[i]);
        }
        return 0;
}

static bool bridge_taken(const char *bridge, struct network *const *nets, size_t n_nets)
{
        for (size_t i = 0; i < n_nets; i++)
                if (nets[i]->bridge && streq(nets[i]->bridge, bridge))
                        return true;
        return false;
}

static int parse_labels(const char *const *labels, char ***out, struct berr **err)
{
        size_t count = 0;

        for (const char *const *l = labels; l && *l; l++) {
                const char *eq = strchr(*l, '=');
                _cleanup_free_ char *key = NULL;

                if (++count > LABELS_MAX)
                        return net_err(err, E2BIG, "more than %d labels", LABELS_MAX);
                if (!eq || eq == *l)
                        return net_err(err, EINVAL, "invalid label `%s`: expected KEY=VALUE", *l);
                if ((size_t)(eq - *l) > LABEL_KEY_MAX || strlen(eq + 1) > LABEL_VAL_MAX)
                        return net_err(err, EINVAL, "label `%.40s...` is too long", *l);
                key = strndup(*l, (size_t)(eq - *l));
                if (!key || strv_push(out, TAKE_PTR(key)) < 0 || strv_extend(out, eq + 1) < 0)
                        return berr_make(err, ENOMEM, "labels");
        }
        return 0;
}

struct create_ctx {
        struct network **nets;
        size_t n_nets;
        struct ip_prefix *host;
        char **host_links;
        size_t n_host;
};

static void create_ctx_done(struct create_ctx *c)
{
        network_freev(c->nets, c->n_nets);
        free(c->host);
        strv_free(c->host_links);
}

static int choose_subnets(const struct network_env *env, const struct network_create_opts *opts,
                          struct create_ctx *c, struct net_spec *spec, struct berr **err)
{
        size_t n = strv_length((char *const *)opts->subnets),
               n_gw = strv_length((char *const *)opts->gateways);
        struct ip_prefix def;

        if (n > SUBNETS_MAX)
                return net_err(err, E2BIG, "more than %d subnets", SUBNETS_MAX);
        if (n_gw > n)
                return net_err(err, EINVAL, "--gateway needs a --subnet for each gateway");
        spec->subnets = calloc(MAX(n, 1), sizeof(*spec->subnets));
        spec->gateways = calloc(MAX(n, 1), sizeof(*spec->gateways));
        if (!spec->subnets || !spec->gateways)
                return berr_make(err, ENOMEM, "subnets");
        for (size_t i = 0; i < n; i++) {
                struct ip_prefix *p = &spec->subnets[i];
                unsigned bits;
                int r = ip_prefix_parse(opts->subnets[i], p, err);

                if (r < 0)
                        return r;
                bits = (p->addr.family == AF_INET ? 32 : 128) - p->len;
                /* Room for the gateway and at least one container. */
                if (bits < 2)
                        return net_err(err, EINVAL, "subnet %s is too small: at least /%u", opts->subnets[i],
                                       p->addr.family == AF_INET ? 30 : 126);
                for (size_t j = 0; j < i; j++)
                        if (ip_prefix_overlaps(p, &spec->subnets[j]))
                                return net_err(err, EINVAL, "subnets %s and %s overlap", opts->subnets[j],
                                               opts->subnets[i]);
                r = check_overlaps(p, c->nets, c->n_nets, c->host, c->host_links, c->n_host, err);
                if (r < 0)
                        return r;
                if (i < n_gw && !strempty(opts->gateways[i])) {
                        if (ip_addr_parse(opts->gateways[i], &spec->gateways[i]) < 0)
                                return net_err(err, EINVAL, "invalid gateway `%s`", opts->gateways[i]);
                        if (!ip_prefix_contains(p, &spec->gateways[i]) ||
                            ip_prefix_is_reserved(p, &spec->gateways[i]) ||
                            !memcmp(p->addr.b, spec->gateways[i].b, 16))
                                return net_err(err, EINVAL, "gateway %s is not a host address of subnet %s",
                                               opts->gateways[i], opts->subnets[i]);
                } else {
                        ip_prefix_nth(p, 1, &spec->gateways[i]);
                }
        }
        spec->n_subnets = n;
        if (n > 0)
                return 0;
        /* None given: the first free /24, never the default network's. */
        if (ip_prefix_parse(env_default_subnet(env), &def, err) < 0)
                return -EINVAL;
        for (unsigned i = 1; i < 256; i++) {
                char buf[IP_STRLEN];
                snprintf(buf, sizeof(buf), AUTO_SUBNET_FMT, i);
                if (ip_prefix_parse(buf, &spec->subnets[0], err) < 0)
                        return -EINVAL;
                if (ip_prefix_overlaps(&spec->subnets[0], &def) ||
                    check_overlaps(&spec->subnets[0], c->nets, c->n_nets, c->host, c->host_links, c->n_host,
                                   NULL) < 0)
                        continue;
                ip_prefix_nth(&spec->subnets[0], 1, &spec->gateways[0]);
                spec->n_subnets = 1;
                return 0;
        }
        return net_err(err, ENOSPC, "no free subnet left in 10.89.0.0/16: pass --subnet");
}

static int choose_bridge(const struct network_env *env, const struct network_create_opts *opts,
                         struct create_ctx *c, char **out, struct berr **err)
{
        if (opts->bridge) {
                if (ifname_check(opts->bridge, err) < 0)
                        return berr_wrap(err, "--bridge");
                for (size_t i = 0; i < c->n_nets; i++)
                        if (c->nets[i]->bridge && streq(c->nets[i]->bridge, opts->bridge))
                                return net_err(err, EEXIST, "bridge `%s` is already used by network `%s`",
                                               opts->bridge, c->nets[i]->name);
                *out = strdup(opts->bridge);
                return *out ? 0 : berr_make(err, ENOMEM, "bridge");
        }
        for (unsigned i = 1; i < 10000; i++) {
                char name[16];
                snprintf(name, sizeof(name), "berth%u", i);
                if (streq(name, env_default_bridge(env)) || bridge_taken(name, c->nets, c->n_nets) ||
                    link_exists(name))
                        continue;
                *out = strdup(name);
                return *out ? 0 : berr_make(err, ENOMEM, "bridge");
        }
        return net_err(err, ENOSPC, "no free bridge name: pass --bridge");
}

/* With the lock held. */
static int create_locked(const struct network_env *env, const struct network_create_opts *opts,
                         struct network **out, struct berr **err)
{
        _cleanup_(create_ctx_done) struct create_ctx c = {0};
        _cleanup_free_ char *path = conflist_path(env, opts->name), *bridge = NULL, *ipam = NULL;
        _cleanup_strv_free_ char **labels = NULL;
        struct net_spec spec = {.name = opts->name, .internal = opts->internal};
        char created[64];
        json_object *conf = NULL;
        int r;

        if (!path)
                return berr_make(err, ENOMEM, "network");
        if (access(path, F_OK) == 0)
                return net_err(err, EEXIST, "network `%s` already exists", opts->name);
        r = parse_labels(opts->labels, &labels, err);
        if (r < 0)
                return r;
        r = load_all(env, &c.nets, &c.n_nets, NULL, err);
        if (r < 0)
                return r;
        r = choose_bridge(env, opts, &c, &bridge, err);
        if (r < 0)
                return r;
        /* The bridge may be left from an earlier network of this name: its addresses do not count. */
        r = host_prefixes(bridge, &c.host, &c.host_links, &c.n_host, err);
        if (r < 0)
                return r;
        r = choose_subnets(env, opts, &c, &spec, err);
        if (r >= 0) {
                ipam = path_join(env_state_dir(env), "ipam");
                spec.bridge = bridge;
                spec.labels = labels;
                spec.created = time_format_rfc3339(time_now_ns(), created, sizeof(created));
                spec.ipam_dir = ipam;
                r = ipam ? conflist_build(&spec, &conf, err) : berr_make(err, ENOMEM, "network");
        }
        free(spec.subnets);
        free(spec.gateways);
        if (r < 0)
                return r;
        r = mkdir_p(env_config_dir(env), 0755, err);
        if (r >= 0) {
                _cleanup_free_ char *data = NULL;
                r = asprintf(&data, "%s\n", json_to_string(conf, true)) < 0
                        ? berr_make(err, ENOMEM, "network")
                        : write_file_atomic_at(AT_FDCWD, path, data, strlen(data), 0644, err);
        }
        if (r >= 0 && out)
                r = conflist_parse(conf, path, out, err);
        json_object_put(conf);
        return r;
}

static bool is_reserved(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(reserved_names); i++)
                if (streq(name, reserved_names[i]))
                        return true;
        return false;
}

int network_create(const struct network_env *env, const struct network_create_opts *opts,
                   struct network **out, struct berr **err)
{
        _cleanup_close_ int lock = -1;
        int r;

        r = name_check("network name", opts->name, err);
        if (r < 0)
                return r;
        if (is_reserved(opts->name) || streq(opts->name, env_default_name(env)))
                return net_err(err, EINVAL, "network name `%s` is reserved", opts->name);
        r = env_lock(env, &lock, err);
        if (r < 0)
                return r;
        r = create_locked(env, opts, out, err);
        return r < 0 ? berr_wrap(err, "create network `%s`", opts->name) : 0;
}

int network_load_locked(const struct network_env *env, const char *name, json_object **conf,
                        struct network **out, struct berr **err)
{
        _cleanup_free_ char *path = conflist_path(env, name);
        int r;

        if (!path)
                return berr_make(err, ENOMEM, "network");
        if (access(path, F_OK) < 0 && errno == ENOENT) {
                const char *subnets[] = {env_default_subnet(env), NULL};
                struct network_create_opts def = {
                    .name = name,
                    .bridge = env_default_bridge(env),
                    .subnets = subnets,
                };
                if (!streq(name, env_default_name(env)))
                        return net_err(err, ENOENT, "network `%s` not found", name);
                r = create_locked(env, &def, NULL, err);
                if (r < 0)
                        return berr_wrap(err, "create default network `%s`", name);
        }
        return conflist_load(path, conf, out, err);
}

int network_get(const struct network_env *env, const char *name, struct network **out, struct berr **err)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int lock = -1;
        int r;

        r = name_check("network name", name, err);
        if (r < 0)
                return r;
        path = conflist_path(env, name);
        if (!path)
                return berr_make(err, ENOMEM, "network");
        if (access(path, F_OK) == 0)
                return conflist_load(path, NULL, out, err);
        r = env_lock(env, &lock, err);
        if (r < 0)
                return r;
        return network_load_locked(env, name, NULL, out, err);
}

static int add(json_object *o, const char *k, json_object *v)
{
        if (!v || json_object_object_add(o, k, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static json_object *inspect_one(const struct network *n)
{
        json_object *o = json_object_new_object(), *subnets = json_object_new_array(), *ipam = NULL;
        int r = 0;

        if (!o || !subnets) {
                json_object_put(o);
                json_object_put(subnets);
                return NULL;
        }
        r |= add(o, "name", json_object_new_string(n->name));
        r |= add(o, "id", json_object_new_string(n->id));
        r |= add(o, "driver", json_object_new_string(n->driver));
        if (n->bridge)
                r |= add(o, "network_interface", json_object_new_string(n->bridge));
        if (n->created)
                r |= add(o, "created", json_object_new_string(n->created));
        for (size_t i = 0; i < n->n_subnets; i++) {
                json_object *s = json_object_new_object();
                r |= add(s, "subnet", json_object_new_string(n->subnets[i].subnet));
                if (n->subnets[i].gateway)
                        r |= add(s, "gateway", json_object_new_string(n->subnets[i].gateway));
                if (!s || json_object_array_add(subnets, s) < 0)
                        r = -ENOMEM;
        }
        r |= add(o, "subnets", subnets);
        r |= add(o, "ipv6_enabled", json_object_new_boolean(n->ipv6));
        r |= add(o, "internal", json_object_new_boolean(n->internal));
        r |= add(o, "dns_enabled", json_object_new_boolean(false));
        if (n->labels) {
                json_object *l = json_object_new_object();
                for (size_t i = 0; n->labels[i] && n->labels[i + 1]; i += 2)
                        r |= add(l, n->labels[i], json_object_new_string(n->labels[i + 1]));
                r |= add(o, "labels", l);
        }
        ipam = json_object_new_object();
        r |= add(ipam, "driver", json_object_new_string("host-local"));
        r |= add(o, "ipam_options", ipam);
        if (r) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

int network_inspect_json(struct network *const *nets, size_t n, char **out, struct berr **err)
{
        json_object *arr = json_object_new_array();

        if (!arr)
                return berr_make(err, ENOMEM, "inspect");
        for (size_t i = 0; i < n; i++) {
                json_object *o = inspect_one(nets[i]);
                if (!o || json_object_array_add(arr, o) < 0) {
                        json_object_put(o);
                        json_object_put(arr);
                        return berr_make(err, ENOMEM, "inspect");
                }
        }
        *out = strdup(json_to_string(arr, true));
        json_object_put(arr);
        return *out ? 0 : berr_make(err, ENOMEM, "inspect");
}

/* host-local keeps <dataDir>/<network>/: a lock, last_reserved_ip.N and one file per lease. */
static int remove_leases(json_object *conf, const char *name, struct berr **err)
{
        json_object *plugins, *ipam, *type, *dir;
        _cleanup_free_ char *path = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (!json_object_object_get_ex(conf, "plugins", &plugins) ||
            !json_object_object_get_ex(json_object_array_get_idx(plugins, 0), "ipam", &ipam) ||
            !json_object_object_get_ex(ipam, "type", &type) ||
            !streq(json_object_get_string(type), "host-local"))
                return 0;
        if (asprintf(&path, "%s/%s",
                     json_object_object_get_ex(ipam, "dataDir", &dir) ? json_object_get_string(dir)
                                                                      : "/var/lib/cni/networks",
                     name) < 0)
                return berr_make(err, ENOMEM, "leases");
        d = opendir(path);
        if (!d)
                return errno == ENOENT ? 0 : berr_errno(err, "open `%s`", path);
        /* Leases of containers berth has no record of are not ours to drop. */
        while ((de = readdir(d)))
                if (streq(de->d_name, "lock") || strneq(de->d_name, "last_reserved_ip.", 17))
                        (void)unlinkat(dirfd(d), de->d_name, 0);
        if (rmdir(path) < 0 && errno != ENOENT && errno != ENOTEMPTY)
                return berr_errno(err, "remove `%s`", path);
        return 0;
}

int network_remove(const struct network_env *env, const char *name, bool allow_default, struct berr **err)
{
        _cleanup_(network_freep) struct network *net = NULL;
        _cleanup_free_ char *path = NULL, *results = NULL;
        _cleanup_close_ int lock = -1;
        json_object **recs = NULL, *conf = NULL;
        size_t n_recs = 0;
        int r;

        r = name_check("network name", name, err);
        if (r < 0)
                return r;
        if (streq(name, env_default_name(env)) && !allow_default)
                return net_err(err, EPERM, "the default network `%s` cannot be removed", name);
        path = conflist_path(env, name);
        results = path_join(env_state_dir(env), "results");
        if (!path || !results)
                return berr_make(err, ENOMEM, "network");
        r = env_lock(env, &lock, err);
        if (r < 0)
                return r;
        if (access(path, F_OK) < 0 && errno == ENOENT)
                return net_err(err, ENOENT, "network `%s` not found", name);
        r = conflist_load(path, &conf, &net, err);
        if (r < 0)
                return r;
        r = record_list(env, name, &recs, &n_recs, err);
        if (r >= 0 && n_recs > 0) {
                json_object *id = NULL;
                json_object_object_get_ex(recs[0], "containerId", &id);
                r = net_err(err, EBUSY, "network `%s` is in use by %zu container%s (%s%s)", name, n_recs,
                            n_recs == 1 ? "" : "s", json_object_get_string(id), n_recs > 1 ? ", ..." : "");
        }
        record_listv_free(recs, n_recs);
        if (r >= 0 && net->bridge && streq(net->driver, "bridge"))
                r = bridge_delete(net->bridge, err);
        if (r >= 0 && unlink(path) < 0 && errno != ENOENT)
                r = berr_errno(err, "remove `%s`", path);
        if (r >= 0)
                r = remove_leases(conf, name, err);
        if (r >= 0) {
                _cleanup_free_ char *dir = path_join(results, name);
                if (dir)
                        (void)rmdir(dir);
        }
        json_object_put(conf);
        return r < 0 ? berr_wrap(err, "remove network `%s`", name) : 0;
}
