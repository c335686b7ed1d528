/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared between the files of src/network and its unit tests; not an API for other layers. */

#include <json-c/json.h>

#include "ipaddr.h"
#include "network.h"

/* ---- env.c: defaults, names, locking, errors ---- */

/* An error whose code tells callers what kind it is (ENOENT, EBUSY, EADDRINUSE,
 * ...) while the message stands alone, without strerror appended. */
int net_err(struct berr **err, int code, const char *fmt, ...) _printf_(3, 4);

const char *env_config_dir(const struct network_env *env);
const char *env_state_dir(const struct network_env *env);
const char *env_run_dir(const struct network_env *env);
const char *env_cni_path(const struct network_env *env);
const char *env_default_name(const struct network_env *env);
const char *env_default_bridge(const struct network_env *env);
const char *env_default_subnet(const struct network_env *env);
unsigned env_plugin_timeout(const struct network_env *env);

#define NAME_MAX_LEN 128
/* Network names and container ids: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 characters. */
int name_check(const char *what, const char *s, struct berr **err);
/* Interface names: 1..15 of [A-Za-z0-9_.-], not "." or "..". */
int ifname_check(const char *s, struct berr **err);
bool hostname_valid(const char *s);

/* Exclusive lock on <state_dir>/lock: serializes network create/remove with
 * the bookkeeping part of attach (port choice, the pending record). */
int env_lock(const struct network_env *env, int *fd, struct berr **err);

/* ---- conflist.c: berth's CNI configuration lists ---- */

#define CONFLIST_MAX (1u << 20)
#define CNI_VERSION  "1.0.0"

struct net_spec {
        const char *name;
        const char *bridge;
        struct ip_prefix *subnets;
        struct ip_addr *gateways;
        size_t n_subnets;
        bool internal;
        char **labels; /* alternating key, value */
        const char *created;
        const char *ipam_dir; /* host-local dataDir */
};

int conflist_build(const struct net_spec *spec, json_object **out, struct berr **err);
/* Validates a configuration list (any plugins, CNI 0.3.0 .. 1.0.0) and
 * describes it as a network; the file name must match its "name". */
int conflist_parse(json_object *conf, const char *path, struct network **out, struct berr **err);
int conflist_load(const char *path, json_object **conf, struct network **out, struct berr **err);
/* Parsed prefixes of a network's subnets. */
int network_prefixes(const struct network *n, struct ip_prefix **out, size_t *count, struct berr **err);
bool cni_version_supported(const char *v);
/* Compares dotted versions numerically: <0, 0, >0. */
int cni_version_cmp(const char *a, const char *b);

/* ---- store.c ---- */

/* Loads <config_dir>/<name>.conflist with the env lock held, creating the
 * default network first when it is missing. */
int network_load_locked(const struct network_env *env, const char *name, json_object **conf,
                        struct network **out, struct berr **err);

/* ---- cni.c: plugin invocation and results ---- */

#define CNI_RESULT_MAX (1u << 20)

struct cni_interface {
        char *name;
        char *mac;
        char *sandbox;
};

struct cni_ip {
        char *address; /* CIDR */
        char *gateway;
        int interface; /* index into interfaces, -1 if absent */
};

struct cni_result {
        char *cni_version;
        struct cni_interface *interfaces;
        size_t n_interfaces;
        struct cni_ip *ips;
        size_t n_ips;
};
/* Result shapes of CNI 0.3.x, 0.4.0 ("version" per IP) and 1.0.0. */
int cni_result_parse(json_object *res, struct cni_result **out, struct berr **err);
void cni_result_free(struct cni_result *r);

struct cni_call {
        const char *command; /* ADD, DEL, CHECK */
        const char *container_id;
        const char *netns; /* may be "" for DEL */
        const char *ifname;
        const char *args; /* CNI_ARGS */
        const char *cni_path;
        unsigned timeout;
        /* ADD: called with each plugin's result before the next plugin runs. */
        int (*progress)(json_object *result, void *userdata, struct berr **err);
        void *userdata;
};

/* Finds an executable plugin in the ':'-separated directory list. */
int cni_plugin_find(const char *cni_path, const char *type, char **path, struct berr **err);
/* Execs one plugin with its network configuration on stdin; for ADD, *result
 * receives the parsed stdout. Plugin errors (CNI error JSON) become the message. */
int cni_exec(const struct cni_call *call, const char *plugin, json_object *netconf, json_object **result,
             struct berr **err);
/* The configuration plugin idx receives: the list's name and cniVersion, the
 * runtimeConfig keys the plugin declares in "capabilities", the prevResult. */
int cni_plugin_conf(json_object *conflist, size_t idx, json_object *runtime_config, json_object *prev_result,
                    json_object **out, struct berr **err);
/* Runs a whole list: ADD in order chaining prevResult (*result gets the last
 * one; on failure it holds the last good result), DEL in reverse order with
 * prev_result, CHECK in order with prev_result. DEL keeps going after a
 * failing plugin and reports the first failure. */
int cni_list_run(const struct cni_call *call, json_object *conflist, json_object *runtime_config,
                 json_object *prev_result, json_object **result, struct berr **err);
/* Every plugin of the list exists in the CNI path. */
int cni_list_check_plugins(json_object *conflist, const char *cni_path, struct berr **err);

/* ---- ipmasq.c ---- */

/* Removes the bridge plugin's masquerade rules for a container if DEL left
 * them; result (may be NULL) says which address families to look at. */
int ipmasq_teardown(json_object *conflist, const char *container_id, json_object *result, struct berr **err);

/* ---- record.c: the results cache ---- */

#define RECORD_MAX (8u << 20)

/* <state_dir>/results/<network>/<container_id>@<ifname>.json */
char *record_path(const struct network_env *env, const char *network, const char *container_id,
                  const char *ifname);
int record_write(const struct network_env *env, json_object *rec, struct berr **err);
/* 0 when found, -ENOENT (without *err) when there is none. */
int record_read(const struct network_env *env, const char *network, const char *container_id,
                const char *ifname, json_object **out, struct berr **err);
int record_remove(const struct network_env *env, const char *network, const char *container_id,
                  const char *ifname, struct berr **err);
/* Records of one network (NULL: all networks), sorted. */
int record_list(const struct network_env *env, const char *network, json_object ***out, size_t *n,
                struct berr **err);
void record_listv_free(json_object **v, size_t n);
int record_to_attachment(json_object *rec, struct network_attachment **out, struct berr **err);
/* Port mappings recorded in runtimeConfig.portMappings. */
int record_ports(json_object *rec, struct network_port **out, size_t *n, struct berr **err);

/* ---- ports.c ---- */

/* portMappings entries for runtimeConfig. */
json_object *ports_to_json(const struct network_port *ports, size_t n);
int ports_from_json(json_object *arr, const char *what, struct network_port **out, size_t *n,
                    struct berr **err);
/* network_ports_allocate with the env lock held; with fds (not NULL) the
 * probing sockets stay open and are returned. */
int ports_allocate_locked(const struct network_env *env, struct network_port *ports, size_t n, int **fds,
                          size_t *n_fds, struct berr **err);
void close_fds(int *fds, size_t n);

/* ---- link.c: host interfaces ---- */

bool link_exists(const char *name);
/* Deletes a bridge that no interface is enslaved to; 0 when it does not exist. */
int bridge_delete(const char *name, struct berr **err);
/* Prefixes of the host's interface addresses (excluding the given bridge). */
int host_prefixes(const char *except_link, struct ip_prefix **out, char ***links, size_t *n,
                  struct berr **err);
/* statfs says nsfs. */
bool path_is_netns(const char *path);
