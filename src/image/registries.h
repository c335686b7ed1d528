/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"

/*
 * Registry configuration: a subset of podman's registries.conf (v2 TOML) read
 * from $BERTH_REGISTRIES_CONF or /etc/berth/registries.conf:
 *
 *   unqualified-search-registries = ["docker.io"]   # accepted, the first one is the default domain
 *   [[registry]]
 *   prefix = "docker.io"            # what references match (defaults to location)
 *   location = "registry.example:5000"
 *   insecure = true                 # plain http or unverified TLS allowed
 *   blocked = false
 *   [[registry.mirror]]
 *   location = "mirror.example/hub"  # tried in order before location (pulls only)
 *   insecure = true
 *
 * and the v1 tables `[registries.insecure] registries = [...]` and
 * `[registries.block] registries = [...]`. Unknown keys are ignored like podman.
 */
#define REGISTRIES_CONF_DEFAULT "/etc/berth/registries.conf"

struct registry_mirror {
        char *location;
        bool insecure;
};

struct registry_entry {
        char *prefix;
        char *location;
        bool insecure;
        bool blocked;
        struct registry_mirror *mirrors;
        size_t n_mirrors;
};

struct registries_conf {
        struct registry_entry *regs;
        size_t n_regs;
        char **search; /* unqualified-search-registries */
};

/* path NULL: $BERTH_REGISTRIES_CONF, else REGISTRIES_CONF_DEFAULT; a missing file is an empty config. */
int registries_conf_load(const char *path, struct registries_conf **out, struct berr **err);
int registries_conf_parse(const char *buf, size_t len, const char *what, struct registries_conf **out,
                          struct berr **err);
void registries_conf_free(struct registries_conf *c);

/* Where to fetch domain/path from: mirrors first (pulls), then the (possibly rewritten) location. */
struct registry_endpoint {
        char *domain;
        char *path;
        bool insecure;
        bool mirror;
};

int registries_conf_endpoints(const struct registries_conf *c, const char *domain, const char *path, bool pull,
                              struct registry_endpoint **out, size_t *n_out, struct berr **err);
void registry_endpoints_free(struct registry_endpoint *e, size_t n);
/* Is domain listed as insecure (as a registry location or mirror)? */
bool registries_conf_insecure(const struct registries_conf *c, const char *domain);

static inline void registries_conf_freep(struct registries_conf **c)
{
        registries_conf_free(*c);
}
#define _cleanup_registries_conf_ _cleanup_(registries_conf_freep)
