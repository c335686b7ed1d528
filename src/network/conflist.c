/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "basic/digest.h"
#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "network-internal.h"

#define PLUGINS_MAX 64

static const char *const supported_versions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"};

bool cni_version_supported(const char *v)
{
        for (size_t i = 0; i < ARRAY_SIZE(supported_versions); i++)
                if (streq(v, supported_versions[i]))
                        return true;
        return false;
}

int cni_version_cmp(const char *a, const char *b)
{
        unsigned va[3] = {0}, vb[3] = {0};

        if (sscanf(a, "%u.%u.%u", &va[0], &va[1], &va[2]) < 1 ||
            sscanf(b, "%u.%u.%u", &vb[0], &vb[1], &vb[2]) < 1)
                return strcmp(a, b);
        for (size_t i = 0; i < 3; i++)
                if (va[i] != vb[i])
                        return va[i] < vb[i] ? -1 : 1;
        return 0;
}

static json_object *jstr(const char *s)
{
        return json_object_new_string(s);
}

static int add(json_object *obj, const char *key, json_object *val)
{
        if (!val)
                return -ENOMEM;
        if (json_object_object_add(obj, key, val) < 0) {
                json_object_put(val);
                return -ENOMEM;
        }
        return 0;
}

static int append(json_object *arr, json_object *val)
{
        if (!val)
                return -ENOMEM;
        if (json_object_array_add(arr, val) < 0) {
                json_object_put(val);
                return -ENOMEM;
        }
        return 0;
}

static json_object *build_ipam(const struct net_spec *spec)
{
        json_object *ipam = json_object_new_object(), *ranges = json_object_new_array(),
                    *routes = json_object_new_array();
        bool v4 = false, v6 = false;
        int r = 0;

        if (!ipam || !ranges || !routes) {
                json_object_put(ipam);
                json_object_put(ranges);
                json_object_put(routes);
                return NULL;
        }
        for (size_t i = 0; i < spec->n_subnets; i++) {
                json_object *set = json_object_new_array(), *range = json_object_new_object();
                char buf[IP_STRLEN];

                ip_prefix_format(&spec->subnets[i], buf);
                r |= add(range, "subnet", jstr(buf));
                ip_addr_format(&spec->gateways[i], buf);
                r |= add(range, "gateway", jstr(buf));
                r |= append(set, range);
                r |= append(ranges, set);
                if (spec->subnets[i].addr.family == AF_INET)
                        v4 = true;
                else
                        v6 = true;
        }
        /* An internal network has no way out: no default route at all. */
        if (!spec->internal) {
                json_object *rt;
                if (v4) {
                        rt = json_object_new_object();
                        r |= add(rt, "dst", jstr("0.0.0.0/0"));
                        r |= append(routes, rt);
                }
                if (v6) {
                        rt = json_object_new_object();
                        r |= add(rt, "dst", jstr("::/0"));
                        r |= append(routes, rt);
                }
        }
        r |= add(ipam, "type", jstr("host-local"));
        if (spec->ipam_dir)
                r |= add(ipam, "dataDir", jstr(spec->ipam_dir));
        r |= add(ipam, "ranges", ranges);
        r |= add(ipam, "routes", routes);
        if (r) {
                json_object_put(ipam);
                return NULL;
        }
        return ipam;
}

int conflist_build(const struct net_spec *spec, json_object **out, struct berr **err)
{
        json_object *conf = json_object_new_object(), *plugins = json_object_new_array();
        json_object *bridge = json_object_new_object(), *portmap = json_object_new_object(),
                    *caps = json_object_new_object(), *firewall = json_object_new_object(),
                    *tuning = json_object_new_object(), *meta = json_object_new_object(),
                    *labels = json_object_new_object();
        int r = 0;

        if (!conf || !plugins || !bridge || !portmap || !caps || !firewall || !tuning || !meta || !labels) {
                json_object_put(conf);
                json_object_put(plugins);
                json_object_put(bridge);
                json_object_put(portmap);
                json_object_put(caps);
                json_object_put(firewall);
                json_object_put(tuning);
                json_object_put(meta);
                json_object_put(labels);
                return berr_make(err, ENOMEM, "network `%s` configuration", spec->name);
        }
        r |= add(conf, "cniVersion", jstr(CNI_VERSION));
        r |= add(conf, "name", jstr(spec->name));
        r |= add(conf, "plugins", plugins);

        r |= add(bridge, "type", jstr("bridge"));
        r |= add(bridge, "bridge", jstr(spec->bridge));
        r |= add(bridge, "isGateway", json_object_new_boolean(!spec->internal));
        r |= add(bridge, "ipMasq", json_object_new_boolean(!spec->internal));
        r |= add(bridge, "hairpinMode", json_object_new_boolean(true));
        r |= add(bridge, "ipam", build_ipam(spec));
        r |= append(plugins, bridge);

        /* snat makes 127.0.0.1:HOSTPORT work: portmap masquerades those
         * connections and sets route_localnet on the bridge. */
        r |= add(caps, "portMappings", json_object_new_boolean(true));
        r |= add(portmap, "type", jstr("portmap"));
        r |= add(portmap, "capabilities", caps);
        r |= add(portmap, "snat", json_object_new_boolean(true));
        r |= append(plugins, portmap);

        r |= add(firewall, "type", jstr("firewall"));
        r |= append(plugins, firewall);
        r |= add(tuning, "type", jstr("tuning"));
        r |= append(plugins, tuning);

        for (size_t i = 0; spec->labels && spec->labels[i] && spec->labels[i + 1]; i += 2)
                r |= add(labels, spec->labels[i], jstr(spec->labels[i + 1]));
        r |= add(meta, "driver", jstr("bridge"));
        if (spec->created)
                r |= add(meta, "created", jstr(spec->created));
        r |= add(meta, "internal", json_object_new_boolean(spec->internal));
        if (json_object_object_length(labels) > 0)
                r |= add(meta, "labels", labels);
        else
                json_object_put(labels);
        r |= add(conf, "berth", meta);
        if (r) {
                json_object_put(conf);
                return berr_make(err, ENOMEM, "network `%s` configuration", spec->name);
        }
        *out = conf;
        return 0;
}

void network_free(struct network *n)
{
        if (!n)
                return;
        free(n->name);
        free(n->id);
        free(n->driver);
        free(n->bridge);
        free(n->created);
        free(n->path);
        for (size_t i = 0; i < n->n_subnets; i++) {
                free(n->subnets[i].subnet);
                free(n->subnets[i].gateway);
        }
        free(n->subnets);
        strv_free(n->labels);
        free(n);
}

void network_freev(struct network **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                network_free(v[i]);
        free(v);
}

static int add_subnet(struct network *n, const char *path, const char *subnet, const char *gateway,
                      struct berr **err)
{
        struct network_subnet *s;
        struct ip_prefix p;
        struct ip_addr gw;
        char buf[IP_STRLEN];
        int r;

        r = ip_prefix_parse(subnet, &p, err);
        if (r < 0)
                return berr_wrap(err, "%s", path);
        if (gateway && (ip_addr_parse(gateway, &gw) < 0 || !ip_prefix_contains(&p, &gw)))
                return net_err(err, EINVAL, "%s: gateway `%s` is not an address of subnet %s", path, gateway,
                               subnet);
        s = realloc(n->subnets, (n->n_subnets + 1) * sizeof(*s));
        if (!s)
                return berr_make(err, ENOMEM, "%s", path);
        n->subnets = s;
        ip_prefix_format(&p, buf);
        s[n->n_subnets].subnet = strdup(buf);
        s[n->n_subnets].gateway = gateway ? strdup(gateway) : NULL;
        n->n_subnets++;
        if (!s[n->n_subnets - 1].subnet || (gateway && !s[n->n_subnets - 1].gateway))
                return berr_make(err, ENOMEM, "%s", path);
        if (p.addr.family == AF_INET6)
                n->ipv6 = true;
        return 0;
}

/* host-local "ranges": [[{subnet, gateway}, ...], ...], or the older "subnet"/"gateway". */
static int parse_ipam(struct network *n, json_object *ipam, const char *path, struct berr **err)
{
        json_object *ranges;
        _cleanup_free_ char *subnet = NULL, *gateway = NULL;
        int r;

        r = json_get(ipam, path, "ranges", json_type_array, false, &ranges, err);
        if (r < 0)
                return r;
        for (size_t i = 0; ranges && i < json_object_array_length(ranges); i++) {
                json_object *set = json_object_array_get_idx(ranges, i);
                _cleanup_free_ char *sp = NULL;

                if (asprintf(&sp, "%s.ranges[%zu]", path, i) < 0)
                        return berr_make(err, ENOMEM, "%s", path);
                if (!json_object_is_type(set, json_type_array))
                        return net_err(err, EINVAL, "%s: expected an array", sp);
                for (size_t j = 0; j < json_object_array_length(set); j++) {
                        json_object *range = json_object_array_get_idx(set, j);
                        _cleanup_free_ char *rp = json_path_idx(sp, j), *s = NULL, *g = NULL;

                        if (!rp)
                                return berr_make(err, ENOMEM, "%s", path);
                        if (!json_object_is_type(range, json_type_object))
                                return net_err(err, EINVAL, "%s: expected an object", rp);
                        if (json_get_str(range, rp, "subnet", true, &s, err) < 0 ||
                            json_get_str(range, rp, "gateway", false, &g, err) < 0)
                                return -EINVAL;
                        r = add_subnet(n, rp, s, g, err);
                        if (r < 0)
                                return r;
                }
        }
        if (json_get_str(ipam, path, "subnet", false, &subnet, err) < 0 ||
            json_get_str(ipam, path, "gateway", false, &gateway, err) < 0)
                return -EINVAL;
        if (subnet)
                return add_subnet(n, path, subnet, gateway, err);
        return 0;
}

static int parse_meta(struct network *n, json_object *conf, struct berr **err)
{
        json_object *meta;
        int r;

        r = json_get(conf, "", "berth", json_type_object, false, &meta, err);
        if (r <= 0)
                return r;
        if (json_get_str(meta, "berth", "created", false, &n->created, err) < 0 ||
            json_get_bool(meta, "berth", "internal", &n->internal, err) < 0 ||
            json_get_str_map(meta, "berth", "labels", &n->labels, err) < 0)
                return -EINVAL;
        return json_get_str(meta, "berth", "driver", false, &n->driver, err) < 0 ? -EINVAL : 0;
}

int network_id(const char *name, char **out, struct berr **err)
{
        char digest[136];

        if (digest_buf(DIGEST_SHA256, name, strlen(name), digest, sizeof(digest)) < 0)
                return net_err(err, EIO, "sha256 of network name `%s`", name);
        *out = strdup(digest + strlen("sha256:"));
        return *out ? 0 : berr_make(err, ENOMEM, "network `%s`", name);
}

static int parse_plugins(struct network *n, json_object *conf, struct berr **err)
{
        json_object *plugins;
        size_t count;
        int r;

        r = json_get(conf, "", "plugins", json_type_array, true, &plugins, err);
        if (r < 0)
                return r;
        count = json_object_array_length(plugins);
        if (count == 0 || count > PLUGINS_MAX)
                return net_err(err, EINVAL, "plugins: expected 1 to %d plugins, got %zu", PLUGINS_MAX, count);
        for (size_t i = 0; i < count; i++) {
                json_object *p = json_object_array_get_idx(plugins, i), *ipam;
                _cleanup_free_ char *pp = json_path_idx("plugins", i), *type = NULL;

                if (!pp)
                        return berr_make(err, ENOMEM, "plugins");
                if (!json_object_is_type(p, json_type_object))
                        return net_err(err, EINVAL, "%s: expected an object", pp);
                if (json_get_str(p, pp, "type", true, &type, err) < 0)
                        return -EINVAL;
                if (!*type || strchr(type, '/') || streq(type, ".") || streq(type, ".."))
                        return net_err(err, EINVAL, "%s.type: `%s` is not a plugin name", pp, type);
                if (i != 0)
                        continue;
                if (!n->driver)
                        n->driver = strdup(type);
                if (json_get_str(p, pp, "bridge", false, &n->bridge, err) < 0)
                        return -EINVAL;
                r = json_get(p, pp, "ipam", json_type_object, false, &ipam, err);
                if (r > 0) {
                        _cleanup_free_ char *ip = json_path_key(pp, "ipam");
                        r = parse_ipam(n, ipam, ip ? ip : "ipam", err);
                }
                if (r < 0)
                        return r;
        }
        return n->driver ? 0 : berr_make(err, ENOMEM, "plugins");
}

int conflist_parse(json_object *conf, const char *path, struct network **out, struct berr **err)
{
        _cleanup_(network_freep) struct network *n = calloc(1, sizeof(*n));
        _cleanup_free_ char *version = NULL;
        const char *base;
        int r;

        if (!n)
                return berr_make(err, ENOMEM, "%s", path);
        if (!json_object_is_type(conf, json_type_object))
                return net_err(err, EINVAL, "%s: expected a JSON object", path);
        if (json_get_str(conf, "", "cniVersion", true, &version, err) < 0 ||
            json_get_str(conf, "", "name", true, &n->name, err) < 0)
                return berr_wrap(err, "%s", path);
        if (!cni_version_supported(version))
                return net_err(err, EINVAL, "%s: cniVersion %s is not supported (0.3.0 to 1.0.0)", path,
                               version);
        if (name_check("network name", n->name, err) < 0)
                return berr_wrap(err, "%s", path);
        base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (!strneq(base, n->name, strlen(n->name)) || !streq(base + strlen(n->name), ".conflist"))
                return net_err(err, EINVAL, "%s: network name `%s` does not match the file name", path,
                               n->name);
        r = parse_meta(n, conf, err);
        if (r >= 0)
                r = parse_plugins(n, conf, err);
        if (r < 0)
                return berr_wrap(err, "%s", path);
        n->path = strdup(path);
        if (!n->path || network_id(n->name, &n->id, err) < 0)
                return berr_make(err, ENOMEM, "%s", path);
        *out = TAKE_PTR(n);
        return 0;
}

int conflist_load(const char *path, json_object **conf, struct network **out, struct berr **err)
{
        _cleanup_free_ char *buf = NULL;
        json_object *obj = NULL;
        size_t len;
        int r;

        r = read_file_at(AT_FDCWD, path, CONFLIST_MAX, &buf, &len, err);
        if (r < 0)
                return r;
        r = json_parse_buf(buf, len, path, &obj, err);
        if (r < 0)
                return r;
        r = conflist_parse(obj, path, out, err);
        if (r < 0 || !conf)
                json_object_put(obj);
        else
                *conf = obj;
        return r;
}

int network_prefixes(const struct network *n, struct ip_prefix **out, size_t *count, struct berr **err)
{
        _cleanup_free_ struct ip_prefix *p = calloc(n->n_subnets + 1, sizeof(*p));

        if (!p)
                return berr_make(err, ENOMEM, "network `%s`", n->name);
        for (size_t i = 0; i < n->n_subnets; i++)
                if (ip_prefix_parse(n->subnets[i].subnet, &p[i], err) < 0)
                        return berr_wrap(err, "network `%s`", n->name);
        *out = TAKE_PTR(p);
        *count = n->n_subnets;
        return 0;
}
