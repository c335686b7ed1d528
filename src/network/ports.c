/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "basic/json.h"
#include "network-internal.h"

/* Attempts at a kernel-chosen port that no other container maps already. */
#define RANDOM_PORT_ATTEMPTS 128

static int parse_num(const char *s, size_t len, uint16_t *out)
{
        unsigned long v = 0;

        if (len == 0 || len > 5)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned long)(s[i] - '0');
        }
        if (v == 0 || v > 65535)
                return -EINVAL;
        *out = (uint16_t)v;
        return 0;
}

/* "80" or "8000-8010". */
static int parse_range(const char *spec, const char *s, uint16_t *lo, uint16_t *hi, struct berr **err)
{
        const char *dash = strchr(s, '-');

        if (dash ? parse_num(s, (size_t)(dash - s), lo) < 0 || parse_num(dash + 1, strlen(dash + 1), hi) < 0
                 : parse_num(s, strlen(s), lo) < 0)
                return net_err(err, EINVAL,
                               "invalid port mapping `%s`: `%s` is not a port (1-65535) or range", spec, s);
        if (!dash)
                *hi = *lo;
        if (*hi < *lo)
                return net_err(err, EINVAL, "invalid port mapping `%s`: range `%s` ends before it starts",
                               spec, s);
        return 0;
}

static int parse_protocols(const char *spec, const char *s, char protos[3][5], size_t *n, struct berr **err)
{
        _cleanup_free_ char *copy = strdup(s);
        char *save = NULL;

        *n = 0;
        if (!copy)
                return berr_make(err, ENOMEM, "port mapping");
        for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                bool dup = false;
                if (!streq(p, "tcp") && !streq(p, "udp") && !streq(p, "sctp"))
                        return net_err(err, EINVAL, "invalid port mapping `%s`: unknown protocol `%s`", spec,
                                       p);
                for (size_t i = 0; i < *n; i++)
                        dup |= streq(protos[i], p);
                if (!dup)
                        strcpy(protos[(*n)++], p);
        }
        if (*n == 0)
                return net_err(err, EINVAL, "invalid port mapping `%s`: empty protocol", spec);
        return 0;
}

/* Room for more entries at the end of *ports, in one allocation per spec. */
static int grow(struct network_port **ports, size_t n, size_t more, const char *spec, struct berr **err)
{
        struct network_port *v;

        if (n + more > NETWORK_PORTS_MAX)
                return net_err(err, E2BIG, "port mapping `%s`: more than %d port mappings", spec,
                               NETWORK_PORTS_MAX);
        v = realloc(*ports, (n + more) * sizeof(*v));
        if (!v)
                return berr_make(err, ENOMEM, "port mapping");
        *ports = v;
        return 0;
}

static int host_ip_parse(const char *spec, const char *s, char out[static INET6_ADDRSTRLEN], bool bracketed,
                         struct berr **err)
{
        struct ip_addr a;
        char buf[IP_STRLEN];

        if (!*s) {
                out[0] = '\0';
                return 0;
        }
        if (ip_addr_parse(s, &a) < 0 || (a.family == AF_INET6) != bracketed)
                return berr_make(
                    err, EINVAL, "invalid port mapping `%s`: `%s` is not an IP address%s", spec, s,
                    a.family == AF_INET6 && !bracketed ? " (write IPv6 addresses in brackets)" : "");
        ip_addr_format(&a, buf);
        if (streq(buf, "0.0.0.0"))
                buf[0] = '\0';
        memcpy(out, buf, MIN(strlen(buf) + 1, (size_t)INET6_ADDRSTRLEN));
        out[INET6_ADDRSTRLEN - 1] = '\0';
        return 0;
}

int network_port_parse(const char *spec, struct network_port **ports, size_t *n, struct berr **err)
{
        _cleanup_free_ char *copy = strdup(spec);
        char protos[3][5], host_ip[INET6_ADDRSTRLEN] = "", *rest, *slash, *c1, *c2;
        const char *host = "", *cont;
        uint16_t hlo = 0, hhi = 0, clo, chi;
        size_t n_protos;
        int r;

        if (!copy)
                return berr_make(err, ENOMEM, "port mapping");
        slash = strrchr(copy, '/');
        if (slash)
                *slash = '\0';
        r = parse_protocols(spec, slash ? slash + 1 : "tcp", protos, &n_protos, err);
        if (r < 0)
                return r;
        rest = copy;
        if (rest[0] == '[') {
                char *close = strchr(rest, ']');
                if (!close || close[1] != ':')
                        return net_err(err, EINVAL,
                                       "invalid port mapping `%s`: expected [IPv6]:HOST:CONTAINER", spec);
                *close = '\0';
                r = host_ip_parse(spec, rest + 1, host_ip, true, err);
                if (r < 0)
                        return r;
                rest = close + 2;
                c1 = strchr(rest, ':');
                if (!c1 || strchr(c1 + 1, ':'))
                        return net_err(err, EINVAL,
                                       "invalid port mapping `%s`: expected [IPv6]:HOST:CONTAINER", spec);
                *c1 = '\0';
                host = rest;
                cont = c1 + 1;
        } else if (!(c1 = strchr(rest, ':'))) {
                cont = rest;
        } else if (!(c2 = strchr(c1 + 1, ':'))) {
                *c1 = '\0';
                host = rest;
                cont = c1 + 1;
        } else {
                if (strchr(c2 + 1, ':'))
                        return net_err(err, EINVAL,
                                       "invalid port mapping `%s`: write IPv6 host addresses in brackets",
                                       spec);
                *c1 = *c2 = '\0';
                r = host_ip_parse(spec, rest, host_ip, false, err);
                if (r < 0)
                        return r;
                host = c1 + 1;
                cont = c2 + 1;
        }
        r = parse_range(spec, cont, &clo, &chi, err);
        if (r < 0)
                return r;
        if (*host) {
                r = parse_range(spec, host, &hlo, &hhi, err);
                if (r < 0)
                        return r;
                if (hhi - hlo != chi - clo && clo != chi)
                        return berr_make(
                            err, EINVAL,
                            "invalid port mapping `%s`: host and container ranges differ in length", spec);
        }
        r = grow(ports, *n, n_protos * (size_t)(chi - clo + 1), spec, err);
        if (r < 0)
                return r;
        for (size_t p = 0; p < n_protos; p++) {
                for (unsigned port = clo; port <= chi; port++) {
                        struct network_port *e = &(*ports)[(*n)++];
                        *e = (struct network_port){.container_port = (uint16_t)port};
                        strcpy(e->host_ip, host_ip);
                        strcpy(e->protocol, protos[p]);
                        if (hlo && clo == chi && hlo != hhi) {
                                e->host_port = hlo;
                                e->host_port_end = hhi;
                        } else if (hlo) {
                                e->host_port = (uint16_t)(hlo + (port - clo));
                        }
                }
        }
        return 0;
}

int network_port_parse_exposed(const char *spec, struct network_port **ports, size_t *n, struct berr **err)
{
        if (strchr(spec, ':'))
                return net_err(err, EINVAL, "invalid exposed port `%s`: expected PORT[-END][/PROTO]", spec);
        return network_port_parse(spec, ports, n, err);
}

char *network_port_format(const struct network_port *p)
{
        bool v6 = strchr(p->host_ip, ':') != NULL;
        char *s;

        if (asprintf(&s, "%s%s%s:%u->%u/%s", v6 ? "[" : "", *p->host_ip ? p->host_ip : "0.0.0.0",
                     v6 ? "]" : "", p->host_port, p->container_port, p->protocol) < 0)
                return NULL;
        return s;
}

json_object *ports_to_json(const struct network_port *ports, size_t n)
{
        json_object *arr = json_object_new_array();

        for (size_t i = 0; arr && i < n; i++) {
                json_object *o = json_object_new_object();
                if (!o || json_object_array_add(arr, o) < 0) {
                        json_object_put(o);
                        json_object_put(arr);
                        return NULL;
                }
                json_object_object_add(o, "hostPort", json_object_new_int(ports[i].host_port));
                json_object_object_add(o, "containerPort", json_object_new_int(ports[i].container_port));
                json_object_object_add(o, "protocol", json_object_new_string(ports[i].protocol));
                if (*ports[i].host_ip)
                        json_object_object_add(o, "hostIP", json_object_new_string(ports[i].host_ip));
        }
        return arr;
}

int ports_from_json(json_object *arr, const char *what, struct network_port **out, size_t *n,
                    struct berr **err)
{
        _cleanup_free_ struct network_port *v = NULL;
        size_t count;

        if (!json_object_is_type(arr, json_type_array))
                return net_err(err, EINVAL, "%s: expected an array", what);
        count = json_object_array_length(arr);
        if (count > NETWORK_PORTS_MAX)
                return net_err(err, E2BIG, "%s: more than %d port mappings", what, NETWORK_PORTS_MAX);
        v = calloc(count + 1, sizeof(*v));
        if (!v)
                return berr_make(err, ENOMEM, "%s", what);
        for (size_t i = 0; i < count; i++) {
                json_object *o = json_object_array_get_idx(arr, i);
                _cleanup_free_ char *p = json_path_idx(what, i), *proto = NULL, *ip = NULL;
                int64_t hp = 0, cp = 0;
                struct ip_addr a;

                if (!p)
                        return berr_make(err, ENOMEM, "%s", what);
                if (!json_object_is_type(o, json_type_object))
                        return net_err(err, EINVAL, "%s: expected an object", p);
                if (json_get_int64(o, p, "hostPort", 1, 65535, &hp, err) <= 0 ||
                    json_get_int64(o, p, "containerPort", 1, 65535, &cp, err) <= 0 ||
                    json_get_str(o, p, "protocol", true, &proto, err) < 0 ||
                    json_get_str(o, p, "hostIP", false, &ip, err) < 0)
                        return net_err(err, EINVAL, "%s: needs hostPort, containerPort and protocol", p);
                if (!streq(proto, "tcp") && !streq(proto, "udp") && !streq(proto, "sctp"))
                        return net_err(err, EINVAL, "%s.protocol: unknown protocol `%s`", p, proto);
                if (ip && *ip && ip_addr_parse(ip, &a) < 0)
                        return net_err(err, EINVAL, "%s.hostIP: `%s` is not an IP address", p, ip);
                v[i].host_port = (uint16_t)hp;
                v[i].container_port = (uint16_t)cp;
                strcpy(v[i].protocol, proto);
                if (ip)
                        snprintf(v[i].host_ip, sizeof(v[i].host_ip), "%s", ip);
        }
        *out = TAKE_PTR(v);
        *n = count;
        return 0;
}

void close_fds(int *fds, size_t n)
{
        for (size_t i = 0; fds && i < n; i++)
                safe_close(fds[i]);
        free(fds);
}

static bool same_binding(const char *ip_a, const char *ip_b, uint16_t port_a, uint16_t port_b,
                         const char *proto_a, const char *proto_b)
{
        return port_a == port_b && streq(proto_a, proto_b) && (!*ip_a || !*ip_b || streq(ip_a, ip_b));
}

struct used_port {
        struct network_port port;
        char *owner;
};

static void used_free(struct used_port *u, size_t n)
{
        for (size_t i = 0; u && i < n; i++)
                free(u[i].owner);
        free(u);
}

/* Host ports that recorded attachments map (they hold no socket on the host). */
static int collect_used(const struct network_env *env, struct used_port **out, size_t *n, struct berr **err)
{
        json_object **recs = NULL;
        size_t n_recs = 0;
        int r;

        *out = NULL;
        *n = 0;
        r = record_list(env, NULL, &recs, &n_recs, err);
        for (size_t i = 0; r >= 0 && i < n_recs; i++) {
                _cleanup_free_ struct network_port *ports = NULL;
                json_object *id = NULL, *net = NULL;
                size_t np = 0;
                struct used_port *u;

                r = record_ports(recs[i], &ports, &np, err);
                if (r < 0 || np == 0)
                        continue;
                json_object_object_get_ex(recs[i], "containerId", &id);
                json_object_object_get_ex(recs[i], "network", &net);
                u = realloc(*out, (*n + np) * sizeof(*u));
                if (!u) {
                        r = berr_make(err, ENOMEM, "port mappings");
                        break;
                }
                *out = u;
                for (size_t j = 0; j < np; j++) {
                        u[*n].port = ports[j];
                        if (asprintf(&u[*n].owner, "container %s (network %s)", json_object_get_string(id),
                                     json_object_get_string(net)) < 0) {
                                r = berr_make(err, ENOMEM, "port mappings");
                                break;
                        }
                        (*n)++;
                }
        }
        record_listv_free(recs, n_recs);
        if (r < 0) {
                used_free(*out, *n);
                *out = NULL;
                *n = 0;
        }
        return r < 0 ? r : 0;
}

/* Binds the host port as the mapping would use it: EADDRINUSE means a host
 * process has it. TCP uses SO_REUSEADDR so that TIME_WAIT leftovers do not
 * count; listening makes the socket exclusive when it is kept. */
static int probe(const char *host_ip, uint16_t port, const char *proto, int *keep_fd, uint16_t *bound)
{
        struct sockaddr_storage ss = {0};
        socklen_t sl;
        struct ip_addr a = {.family = AF_INET};
        bool stream = !streq(proto, "udp");
        int one = 1, fd;

        if (*host_ip && ip_addr_parse(host_ip, &a) < 0)
                return -EINVAL;
        fd = socket(a.family, (stream ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC,
                    streq(proto, "sctp") ? IPPROTO_SCTP : 0);
        if (fd < 0 && streq(proto, "sctp") && (errno == EPROTONOSUPPORT || errno == ESOCKTNOSUPPORT)) {
                /* No SCTP in this kernel: nothing can hold the port; choose by TCP's view. */
                if (port)
                        return *bound = port, 0;
                fd = socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        }
        if (fd < 0)
                return -errno;
        if (stream)
                (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (a.family == AF_INET) {
                struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
                sin->sin_family = AF_INET;
                sin->sin_port = htons(port);
                memcpy(&sin->sin_addr, a.b, 4);
                sl = sizeof(*sin);
        } else {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons(port);
                memcpy(&sin6->sin6_addr, a.b, 16);
                sl = sizeof(*sin6);
        }
        if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || (keep_fd && stream && listen(fd, 1) < 0) ||
            getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        *bound = ntohs(a.family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                           : ((struct sockaddr_in6 *)&ss)->sin6_port);
        if (keep_fd)
                *keep_fd = fd;
        else
                close(fd);
        return 0;
}

static const char *taken_by(const struct used_port *used, size_t n_used, const struct network_port *ports,
                            size_t upto, const char *ip, uint16_t port, const char *proto)
{
        for (size_t i = 0; i < n_used; i++)
                if (same_binding(used[i].port.host_ip, ip, used[i].port.host_port, port,
                                 used[i].port.protocol, proto))
                        return used[i].owner;
        for (size_t i = 0; i < upto; i++)
                if (same_binding(ports[i].host_ip, ip, ports[i].host_port, port, ports[i].protocol, proto))
                        return "another mapping of this container";
        return NULL;
}

static int probe_error(const struct network_port *p, uint16_t port, int r, struct berr **err)
{
        const char *ip = *p->host_ip ? p->host_ip : "0.0.0.0";

        if (r == -EADDRINUSE)
                return net_err(err, EADDRINUSE, "host port %s:%u/%s is already in use on the host", ip, port,
                               p->protocol);
        if (r == -EADDRNOTAVAIL)
                return net_err(err, EADDRNOTAVAIL,
                               "host IP %s of port mapping %u/%s is not an address of this host", ip, port,
                               p->protocol);
        return berr_make(err, -r, "bind host port %s:%u/%s", ip, port, p->protocol);
}

static int choose(struct network_port *ports, size_t i, const struct used_port *used, size_t n_used, int *fd,
                  struct berr **err)
{
        struct network_port *p = &ports[i];
        const char *owner;
        uint16_t bound = 0;
        int r;

        if (p->host_port && !p->host_port_end) {
                owner = taken_by(used, n_used, ports, i, p->host_ip, p->host_port, p->protocol);
                if (owner)
                        return net_err(err, EADDRINUSE, "host port %u/%s is already mapped by %s",
                                       p->host_port, p->protocol, owner);
                r = probe(p->host_ip, p->host_port, p->protocol, fd, &bound);
                return r < 0 ? probe_error(p, p->host_port, r, err) : 0;
        }
        if (p->host_port) {
                for (unsigned port = p->host_port; port <= p->host_port_end; port++) {
                        if (taken_by(used, n_used, ports, i, p->host_ip, (uint16_t)port, p->protocol))
                                continue;
                        r = probe(p->host_ip, (uint16_t)port, p->protocol, fd, &bound);
                        if (r == -EADDRINUSE)
                                continue;
                        if (r < 0)
                                return probe_error(p, (uint16_t)port, r, err);
                        p->host_port = (uint16_t)port;
                        p->host_port_end = 0;
                        return 0;
                }
                return net_err(err, EADDRINUSE, "no free host port in %u-%u/%s", p->host_port,
                               p->host_port_end, p->protocol);
        }
        for (int attempt = 0; attempt < RANDOM_PORT_ATTEMPTS; attempt++) {
                int tmp = -1;
                r = probe(p->host_ip, 0, p->protocol, &tmp, &bound);
                if (r < 0)
                        return probe_error(p, 0, r, err);
                if (taken_by(used, n_used, ports, i, p->host_ip, bound, p->protocol)) {
                        safe_close(tmp);
                        continue;
                }
                p->host_port = bound;
                if (fd)
                        *fd = tmp;
                else
                        safe_close(tmp);
                return 0;
        }
        return net_err(err, EADDRINUSE, "no free host port found for %u/%s", p->container_port, p->protocol);
}

int ports_allocate_locked(const struct network_env *env, struct network_port *ports, size_t n, int **fds,
                          size_t *n_fds, struct berr **err)
{
        struct used_port *used = NULL;
        _cleanup_free_ int *kept = NULL;
        size_t n_used = 0, n_kept = 0;
        int r;

        if (n == 0)
                return 0;
        if (n > NETWORK_PORTS_MAX)
                return net_err(err, E2BIG, "more than %d port mappings", NETWORK_PORTS_MAX);
        r = collect_used(env, &used, &n_used, err);
        if (r < 0)
                return r;
        kept = calloc(n, sizeof(int));
        if (!kept) {
                used_free(used, n_used);
                return berr_make(err, ENOMEM, "port mappings");
        }
        for (size_t i = 0; i < n; i++) {
                int fd = -1;
                r = choose(ports, i, used, n_used, fds ? &fd : NULL, err);
                if (r < 0)
                        break;
                if (fd >= 0)
                        kept[n_kept++] = fd;
        }
        used_free(used, n_used);
        if (r < 0) {
                for (size_t i = 0; i < n_kept; i++)
                        safe_close(kept[i]);
                return r;
        }
        if (fds) {
                *fds = TAKE_PTR(kept);
                *n_fds = n_kept;
        } else {
                for (size_t i = 0; i < n_kept; i++)
                        safe_close(kept[i]);
        }
        return 0;
}

int network_ports_allocate(const struct network_env *env, struct network_port *ports, size_t n,
                           struct berr **err)
{
        _cleanup_close_ int lock = -1;
        int r = env_lock(env, &lock, err);

        if (r < 0)
                return r;
        return ports_allocate_locked(env, ports, n, NULL, NULL, err);
}
