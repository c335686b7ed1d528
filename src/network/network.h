/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * CNI networking for berth containers (daemonless, like podman with CNI).
 *
 * A network is a CNI configuration list in <config_dir>/<name>.conflist
 * (bridge + host-local + portmap + firewall + tuning); berth execs the
 * plugins itself. Everything a later teardown needs (the configuration
 * used, CNI_ARGS, port mappings, the ADD result) is written to
 * <state_dir>/results/<network>/ before the plugins run, so DEL works from
 * any later process. docs/NETWORKING.md describes the layout and choices.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "basic/error.h"

#define NETWORK_CONFIG_DIR "/etc/berth/networks"
#define NETWORK_STATE_DIR  "/var/lib/berth/network"
#define NETWORK_RUN_DIR    "/run/berth"
#define NETWORK_CNI_PATH                                                                                     \
        "/usr/local/libexec/cni:/usr/libexec/cni:/usr/local/lib/cni:/usr/lib/cni:/opt/cni/bin"
#define NETWORK_DEFAULT_NAME   "berth"
#define NETWORK_DEFAULT_BRIDGE "berth0"
/* Not podman's 10.88.0.0/16; user networks without --subnet get 10.89.1.0/24, 10.89.2.0/24, ... */
#define NETWORK_DEFAULT_SUBNET "10.89.0.0/24"
#define NETWORK_PLUGIN_TIMEOUT 120
/* Port mappings per attachment (a range counts once per port). */
#define NETWORK_PORTS_MAX 8192

/* Where berth keeps networks; NULL fields take the defaults above. */
struct network_env {
        const char *config_dir;     /* network definitions, *.conflist */
        const char *state_dir;      /* results cache, host-local leases (ipam/), lock */
        const char *run_dir;        /* netns bind mounts in <run_dir>/netns/ */
        const char *cni_path;       /* plugin directories, ':'-separated */
        const char *default_name;   /* network behind --network bridge */
        const char *default_bridge; /* its bridge interface */
        const char *default_subnet; /* its IPv4 subnet */
        unsigned plugin_timeout;    /* seconds per plugin call; 0: NETWORK_PLUGIN_TIMEOUT */
};

/* --network none|host|bridge|NAME (NULL or "" is bridge). */
enum network_mode { NETWORK_MODE_BRIDGE, NETWORK_MODE_NONE, NETWORK_MODE_HOST };
/* For NETWORK_MODE_BRIDGE *network is the network name (the default one for "bridge"). */
int network_mode_parse(const struct network_env *env, const char *arg, enum network_mode *mode,
                       char **network, struct berr **err);

/* ---- networks ---------------------------------------------------------- */

struct network_subnet {
        char *subnet;  /* canonical CIDR */
        char *gateway; /* NULL when the configuration has none */
};

struct network {
        char *name;
        char *id; /* sha256 hex of the name, as podman */
        char *driver;
        char *bridge;
        char *created; /* RFC 3339, NULL for configurations berth did not write */
        char *path;    /* the .conflist file */
        struct network_subnet *subnets;
        size_t n_subnets;
        bool internal;
        bool ipv6;
        char **labels; /* alternating key, value */
};
void network_free(struct network *n);
void network_freev(struct network **v, size_t n);
static inline void network_freep(struct network **n)
{
        network_free(*n);
}

struct network_create_opts {
        const char *name;
        const char *bridge;          /* NULL: first free "berth<N>" */
        const char *const *subnets;  /* CIDRs; NULL: first free 10.89.N.0/24 */
        const char *const *gateways; /* parallel to subnets; missing/NULL: first address */
        const char *const *labels;   /* "key=value" */
        bool internal;               /* no gateway on the bridge, no masquerade, no default route */
};
/* Refuses names in use, subnets that overlap another network or an address of the host. */
int network_create(const struct network_env *env, const struct network_create_opts *opts,
                   struct network **out, struct berr **err);
/* Loads a network; the default network is created on first use. */
int network_get(const struct network_env *env, const char *name, struct network **out, struct berr **err);
/* All networks sorted by name; files that fail to load are skipped and named in *warnings. */
int network_list(const struct network_env *env, struct network ***out, size_t *n, char ***warnings,
                 struct berr **err);
/* JSON array in the shape of `podman network inspect`. */
int network_inspect_json(struct network *const *nets, size_t n, char **out, struct berr **err);
/* Refuses while containers are attached (naming them) and for the default
 * network unless allow_default. Removes the bridge and the leases. */
int network_remove(const struct network_env *env, const char *name, bool allow_default, struct berr **err);

/* ---- port mappings ----------------------------------------------------- */

struct network_port {
        char host_ip[INET6_ADDRSTRLEN]; /* "" = every address */
        uint16_t host_port;             /* 0 = any free port */
        uint16_t host_port_end;         /* > host_port: any free port of the range */
        uint16_t container_port;
        char protocol[5]; /* tcp, udp or sctp */
};

/* -p [[HOST_IP:][HOST_PORT[-END]]:]CONTAINER_PORT[-END][/PROTO[,PROTO]]; appends to *ports. */
int network_port_parse(const char *spec, struct network_port **ports, size_t *n, struct berr **err);
/* An image's exposed port ("80", "53/udp", "8000-8010/tcp") for -P: any free host port. */
int network_port_parse_exposed(const char *spec, struct network_port **ports, size_t *n, struct berr **err);
/* "127.0.0.1:8080->80/tcp" as docker ps shows it. */
char *network_port_format(const struct network_port *p);
/* Chooses free host ports for entries without a fixed one and checks that the
 * others are free: neither bound on the host nor mapped to another container. */
int network_ports_allocate(const struct network_env *env, struct network_port *ports, size_t n,
                           struct berr **err);

/* ---- containers -------------------------------------------------------- */

struct network_ip {
        char *address; /* CIDR, "10.89.0.2/24" */
        char *gateway;
};

struct network_attachment {
        char *network;
        char *container_id;
        char *container_name;
        char *ifname;
        char *netns;
        char *mac;
        struct network_ip *ips;
        size_t n_ips;
        struct network_port *ports; /* with the host ports chosen */
        size_t n_ports;
        /* Sockets holding the host ports (reserve_ports); network_attachment_free()
         * closes them, so take them (and zero n_port_fds) to keep them. */
        int *port_fds;
        size_t n_port_fds;
        bool complete; /* false: ADD never finished (crash); detach still cleans up */
};
void network_attachment_free(struct network_attachment *a);
void network_attachmentv_free(struct network_attachment **v, size_t n);
static inline void network_attachment_freep(struct network_attachment **a)
{
        network_attachment_free(*a);
}

struct network_attach_opts {
        const char *container_id;
        const char *container_name; /* K8S_POD_NAME and the hosts entry; NULL: the id */
        const char *netns;          /* path of the network namespace */
        const char *ifname;         /* NULL: eth0 */
        const char *static_ip;      /* ask host-local for this address (CNI_ARGS IP=) */
        const struct network_port *ports;
        size_t n_ports;
        const char *const *cni_args; /* extra "KEY=VALUE" for CNI_ARGS */
        /* Keep bound sockets on the host ports (returned in port_fds) so no
         * host process can take them while the container runs. */
        bool reserve_ports;
};
/* Runs ADD through the network's plugins; on failure runs DEL and leaves nothing behind. */
int network_attach(const struct network_env *env, const char *network, const struct network_attach_opts *opts,
                   struct network_attachment **out, struct berr **err);
/* A network's id (podman's: the sha256 hex of its name). */
int network_id(const char *name, char **out, struct berr **err);
/* Runs DEL from the cached record: 1 when it detached, 0 when there was nothing to do. */
int network_detach(const struct network_env *env, const char *network, const char *container_id,
                   const char *ifname, struct berr **err);
/* Runs CHECK (CNI >= 0.4.0) from the cached record. */
int network_check(const struct network_env *env, const char *network, const char *container_id,
                  const char *ifname, struct berr **err);
/* One container's attachment to a network (ifname NULL: eth0); -ENOENT (no error set) when there is none. */
int network_attachment_get(const struct network_env *env, const char *network, const char *container_id,
                           const char *ifname, struct network_attachment **out, struct berr **err);
/* Attachments recorded for one network (or all with NULL), ordered by network, container, interface. */
int network_attachments_list(const struct network_env *env, const char *network,
                             struct network_attachment ***out, size_t *n, struct berr **err);

/* ---- /etc/hosts -------------------------------------------------------- */

/* Name resolution between containers uses /etc/hosts (dnsname is not in Debian). */
struct network_host_entry {
        char *ip;
        char **names;
};
void network_host_entries_free(struct network_host_entry *e, size_t n);
/* One entry per container attached to any of the networks: its address and
 * names (container name, then the 12-character short id). */
int network_hosts_collect(const struct network_env *env, const char *const *networks,
                          struct network_host_entry **out, size_t *n, struct berr **err);
/* hosts(5) content: base (NULL: localhost lines) followed by the entries;
 * names that are not valid host names are refused. */
int network_hosts_render(const char *base, const struct network_host_entry *entries, size_t n, char **out,
                         struct berr **err);

/* ---- network namespaces ------------------------------------------------ */

/* Creates <run_dir>/netns/<name> (loopback up), like `ip netns add`. */
int network_netns_create(const struct network_env *env, const char *name, char **path, struct berr **err);
/* Unmounts and removes it; succeeds when it does not exist. */
int network_netns_remove(const struct network_env *env, const char *name, struct berr **err);
char *network_netns_path(const struct network_env *env, const char *name);
