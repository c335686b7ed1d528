/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "network-internal.h"

#define RECORD_KIND "berth-cni-cache/v1"
/* Records read in one listing: more containers than this on one host is not a berth use case. */
#define RECORDS_MAX 65536

static char *results_dir(const struct network_env *env, const char *network)
{
        _cleanup_free_ char *base = path_join(env_state_dir(env), "results");

        if (!base)
                return NULL;
        return network ? path_join(base, network) : TAKE_PTR(base);
}

char *record_path(const struct network_env *env, const char *network, const char *container_id,
                  const char *ifname)
{
        _cleanup_free_ char *dir = results_dir(env, network);
        char *p;

        if (!dir || asprintf(&p, "%s/%s@%s.json", dir, container_id, ifname) < 0)
                return NULL;
        return p;
}

static const char *str_field(json_object *rec, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(rec, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

int record_write(const struct network_env *env, json_object *rec, struct berr **err)
{
        const char *net = str_field(rec, "network"), *id = str_field(rec, "containerId"),
                   *ifname = str_field(rec, "ifName");
        _cleanup_free_ char *dir = NULL, *path = NULL;
        const char *data;
        int r;

        if (!net || !id || !ifname)
                return net_err(err, EINVAL, "incomplete network record");
        dir = results_dir(env, net);
        path = record_path(env, net, id, ifname);
        if (!dir || !path)
                return berr_make(err, ENOMEM, "network record");
        r = mkdir_p(dir, 0700, err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(rec, "kind", NULL))
                json_object_object_add(rec, "kind", json_object_new_string(RECORD_KIND));
        data = json_to_string(rec, false);
        if (strlen(data) > RECORD_MAX)
                return net_err(err, EFBIG, "network record for container %s is larger than %u bytes", id,
                               RECORD_MAX);
        return write_file_atomic_at(AT_FDCWD, path, data, strlen(data), 0600, err);
}

static int record_validate(json_object *rec, const char *path, struct berr **err)
{
        json_object *v;
        const char *kind = str_field(rec, "kind");

        if (!json_object_is_type(rec, json_type_object) || !kind || !streq(kind, RECORD_KIND))
                return net_err(err, EINVAL, "%s: not a berth network record", path);
        if (!str_field(rec, "network") || !str_field(rec, "containerId") || !str_field(rec, "ifName"))
                return net_err(err, EINVAL, "%s: network record lacks network, containerId or ifName", path);
        if (!json_object_object_get_ex(rec, "config", &v) || !json_object_is_type(v, json_type_object))
                return net_err(err, EINVAL, "%s: network record lacks its CNI configuration", path);
        return 0;
}

static int record_load(const char *path, json_object **out, struct berr **err)
{
        _cleanup_free_ char *buf = NULL;
        json_object *rec = NULL;
        size_t len;
        int r;

        r = read_file_at(AT_FDCWD, path, RECORD_MAX, &buf, &len, err);
        if (r < 0)
                return r;
        r = json_parse_buf(buf, len, path, &rec, err);
        if (r < 0)
                return r;
        r = record_validate(rec, path, err);
        if (r < 0) {
                json_object_put(rec);
                return r;
        }
        *out = rec;
        return 0;
}

int record_read(const struct network_env *env, const char *network, const char *container_id,
                const char *ifname, json_object **out, struct berr **err)
{
        _cleanup_free_ char *path = record_path(env, network, container_id, ifname);

        if (!path)
                return berr_make(err, ENOMEM, "network record");
        if (access(path, F_OK) < 0 && errno == ENOENT)
                return -ENOENT;
        return record_load(path, out, err);
}

int record_remove(const struct network_env *env, const char *network, const char *container_id,
                  const char *ifname, struct berr **err)
{
        _cleanup_free_ char *path = record_path(env, network, container_id, ifname);

        if (!path)
                return berr_make(err, ENOMEM, "network record");
        /* The directory stays (an attach may be writing into it): network_remove() takes it. */
        if (unlink(path) < 0 && errno != ENOENT)
                return berr_errno(err, "remove `%s`", path);
        return 0;
}

void record_listv_free(json_object **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                json_object_put(v[i]);
        free(v);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dir(DIR *d, struct dirent *de)
{
        struct stat st;

        if (de->d_type != DT_UNKNOWN)
                return de->d_type == DT_DIR;
        return fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Sorted names in dir, filtered by suffix ("" for directories); ENOENT gives none. */
static int list_dir(const char *dir, const char *suffix, char ***out, size_t *n, struct berr **err)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        size_t count = 0;

        *out = NULL;
        *n = 0;
        if (!d)
                return errno == ENOENT ? 0 : berr_errno(err, "open `%s`", dir);
        while ((errno = 0, de = readdir(d))) {
                size_t len = strlen(de->d_name), sl = strlen(suffix);
                if (de->d_name[0] == '.')
                        continue;
                if (*suffix ? len <= sl || !streq(de->d_name + len - sl, suffix) : !is_dir(d, de))
                        continue;
                if (++count > RECORDS_MAX)
                        return net_err(err, E2BIG, "`%s` has more than %d entries", dir, RECORDS_MAX);
                if (strv_extend(&names, de->d_name) < 0)
                        return berr_make(err, ENOMEM, "list `%s`", dir);
        }
        if (errno)
                return berr_errno(err, "read `%s`", dir);
        if (names)
                qsort(names, count, sizeof(char *), cmp_str);
        *out = TAKE_PTR(names);
        *n = count;
        return 0;
}

static int list_network(const char *dir, json_object ***out, size_t *n, struct berr **err)
{
        _cleanup_strv_free_ char **names = NULL;
        size_t count;
        int r;

        r = list_dir(dir, ".json", &names, &count, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < count; i++) {
                _cleanup_free_ char *p = path_join(dir, names[i]);
                json_object *rec = NULL, **nv;

                if (!p)
                        return berr_make(err, ENOMEM, "list records");
                r = record_load(p, &rec, err);
                if (r == -ENOENT) { /* removed by a concurrent detach */
                        if (err)
                                berr_freep(err);
                        continue;
                }
                if (r < 0)
                        return r;
                if (*n >= RECORDS_MAX) {
                        json_object_put(rec);
                        return net_err(err, E2BIG, "more than %d network records", RECORDS_MAX);
                }
                nv = realloc(*out, (*n + 1) * sizeof(*nv));
                if (!nv) {
                        json_object_put(rec);
                        return berr_make(err, ENOMEM, "list records");
                }
                *out = nv;
                nv[(*n)++] = rec;
        }
        return 0;
}

int record_list(const struct network_env *env, const char *network, json_object ***out, size_t *n,
                struct berr **err)
{
        _cleanup_free_ char *base = results_dir(env, NULL);
        _cleanup_strv_free_ char **nets = NULL;
        json_object **v = NULL;
        size_t count = 0, n_nets = 0;
        int r = 0;

        if (!base)
                return berr_make(err, ENOMEM, "list records");
        if (network)
                r = strv_extend(&nets, network) < 0 ? berr_make(err, ENOMEM, "list records") : 0;
        else
                r = list_dir(base, "", &nets, &n_nets, err);
        for (char **s = nets; r >= 0 && s && *s; s++) {
                _cleanup_free_ char *dir = path_join(base, *s);
                r = dir ? list_network(dir, &v, &count, err) : berr_make(err, ENOMEM, "list records");
        }
        if (r < 0) {
                record_listv_free(v, count);
                return r;
        }
        *out = v;
        *n = count;
        return 0;
}

int record_ports(json_object *rec, struct network_port **out, size_t *n, struct berr **err)
{
        json_object *rc, *pm;

        *out = NULL;
        *n = 0;
        if (!json_object_object_get_ex(rec, "runtimeConfig", &rc) ||
            !json_object_object_get_ex(rc, "portMappings", &pm))
                return 0;
        return ports_from_json(pm, "runtimeConfig.portMappings", out, n, err);
}

void network_attachment_free(struct network_attachment *a)
{
        if (!a)
                return;
        free(a->network);
        free(a->container_id);
        free(a->container_name);
        free(a->ifname);
        free(a->netns);
        free(a->mac);
        for (size_t i = 0; i < a->n_ips; i++) {
                free(a->ips[i].address);
                free(a->ips[i].gateway);
        }
        free(a->ips);
        free(a->ports);
        close_fds(a->port_fds, a->n_port_fds);
        free(a);
}

void network_attachmentv_free(struct network_attachment **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                network_attachment_free(v[i]);
        free(v);
}

static char *dup_field(json_object *rec, const char *key)
{
        const char *s = str_field(rec, key);

        return strdup(s ? s : "");
}

/* The container side: the interface with a sandbox and our name, and the addresses on it. */
static int fill_from_result(struct network_attachment *a, json_object *res, struct berr **err)
{
        struct cni_result *r = NULL;
        int iface = -1;

        if (cni_result_parse(res, &r, err) < 0)
                return -EINVAL;
        for (size_t i = 0; i < r->n_interfaces; i++)
                if (r->interfaces[i].sandbox && streq(r->interfaces[i].name, a->ifname)) {
                        iface = (int)i;
                        if (r->interfaces[i].mac && !(a->mac = strdup(r->interfaces[i].mac)))
                                goto oom;
                        break;
                }
        a->ips = calloc(r->n_ips + 1, sizeof(*a->ips));
        if (!a->ips)
                goto oom;
        for (size_t i = 0; i < r->n_ips; i++) {
                struct network_ip *ip = &a->ips[a->n_ips];
                if (iface >= 0 && r->ips[i].interface >= 0 && r->ips[i].interface != iface)
                        continue;
                ip->address = strdup(r->ips[i].address);
                ip->gateway = r->ips[i].gateway ? strdup(r->ips[i].gateway) : NULL;
                a->n_ips++;
                if (!ip->address || (r->ips[i].gateway && !ip->gateway))
                        goto oom;
        }
        cni_result_free(r);
        return 0;
oom:
        cni_result_free(r);
        return berr_make(err, ENOMEM, "attachment");
}

int record_to_attachment(json_object *rec, struct network_attachment **out, struct berr **err)
{
        _cleanup_(network_attachment_freep) struct network_attachment *a = calloc(1, sizeof(*a));
        json_object *res;

        if (!a)
                return berr_make(err, ENOMEM, "attachment");
        a->network = dup_field(rec, "network");
        a->container_id = dup_field(rec, "containerId");
        a->container_name = dup_field(rec, "containerName");
        a->ifname = dup_field(rec, "ifName");
        a->netns = dup_field(rec, "netns");
        if (!a->network || !a->container_id || !a->container_name || !a->ifname || !a->netns)
                return berr_make(err, ENOMEM, "attachment");
        if (record_ports(rec, &a->ports, &a->n_ports, err) < 0)
                return -EINVAL;
        if (json_object_object_get_ex(rec, "result", &res) && res) {
                if (fill_from_result(a, res, err) < 0)
                        return berr_wrap(err, "network `%s` container %s", a->network, a->container_id);
                a->complete = true;
        }
        *out = TAKE_PTR(a);
        return 0;
}
