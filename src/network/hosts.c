/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "basic/strv.h"
#include "network-internal.h"

/* Like docker's generated /etc/hosts. */
#define HOSTS_DEFAULT "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
#define HOSTS_MAX     (4u << 20)
#define SHORT_ID_LEN  12

void network_host_entries_free(struct network_host_entry *e, size_t n)
{
        for (size_t i = 0; e && i < n; i++) {
                free(e[i].ip);
                strv_free(e[i].names);
        }
        free(e);
}

int network_hosts_render(const char *base, const struct network_host_entry *entries, size_t n, char **out,
                         struct berr **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        int r = 0;

        if (!f)
                return berr_make(err, ENOMEM, "hosts");
        base = base ? base : HOSTS_DEFAULT;
        fputs(base, f);
        if (*base && base[strlen(base) - 1] != '\n')
                fputc('\n', f);
        for (size_t i = 0; i < n; i++) {
                struct ip_addr a;
                char ip[IP_STRLEN];

                /* Each name ends up in a file the container's resolver parses: no spaces, no newlines. */
                if (!entries[i].ip || ip_addr_parse(entries[i].ip, &a) < 0) {
                        r = net_err(err, EINVAL, "hosts entry: `%s` is not an IP address",
                                    entries[i].ip ? entries[i].ip : "");
                        break;
                }
                if (strv_length(entries[i].names) == 0) {
                        r = net_err(err, EINVAL, "hosts entry for %s has no name", entries[i].ip);
                        break;
                }
                ip_addr_format(&a, ip);
                fputs(ip, f);
                STRV_FOREACH (name, entries[i].names) {
                        if (!hostname_valid(*name)) {
                                r = net_err(err, EINVAL, "hosts entry: `%s` is not a valid host name", *name);
                                break;
                        }
                        fprintf(f, "%s%s", name == entries[i].names ? "\t" : " ", *name);
                }
                if (r < 0)
                        break;
                fputc('\n', f);
        }
        if (fclose(f) != 0 && r == 0)
                r = berr_make(err, ENOMEM, "hosts");
        if (r < 0)
                return r;
        if (len > HOSTS_MAX)
                return net_err(err, EFBIG, "hosts content is larger than %u bytes", HOSTS_MAX);
        *out = TAKE_PTR(buf);
        return 0;
}

static int push_entry(struct network_host_entry **v, size_t *n, const struct network_attachment *a,
                      const char *address)
{
        struct network_host_entry *nv, e = {0};
        const char *slash = strchr(address, '/');
        char shortid[SHORT_ID_LEN + 1];

        e.ip = slash ? strndup(address, (size_t)(slash - address)) : strdup(address);
        if (!e.ip || strv_extend(&e.names, a->container_name) < 0)
                goto oom;
        snprintf(shortid, sizeof(shortid), "%s", a->container_id);
        if (!streq(shortid, a->container_name) && hostname_valid(shortid) &&
            strv_extend(&e.names, shortid) < 0)
                goto oom;
        nv = realloc(*v, (*n + 1) * sizeof(*nv));
        if (!nv)
                goto oom;
        nv[(*n)++] = e;
        *v = nv;
        return 0;
oom:
        free(e.ip);
        strv_free(e.names);
        return -ENOMEM;
}

int network_hosts_collect(const struct network_env *env, const char *const *networks,
                          struct network_host_entry **out, size_t *n, struct berr **err)
{
        struct network_host_entry *v = NULL;
        size_t count = 0;
        int r = 0;

        for (const char *const *net = networks; net && *net && r >= 0; net++) {
                struct network_attachment **atts = NULL;
                size_t n_atts = 0;

                r = network_attachments_list(env, *net, &atts, &n_atts, err);
                for (size_t i = 0; r >= 0 && i < n_atts; i++) {
                        /* Names that cannot go into hosts(5) are left out rather than failing everyone. */
                        if (!atts[i]->complete || !hostname_valid(atts[i]->container_name))
                                continue;
                        for (size_t j = 0; r >= 0 && j < atts[i]->n_ips; j++)
                                if (push_entry(&v, &count, atts[i], atts[i]->ips[j].address) < 0)
                                        r = berr_make(err, ENOMEM, "hosts");
                }
                network_attachmentv_free(atts, n_atts);
        }
        if (r < 0) {
                network_host_entries_free(v, count);
                return r;
        }
        *out = v;
        *n = count;
        return 0;
}
