/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"

/* WWW-Authenticate challenges (RFC 7235): `Bearer realm="..",service="..",scope=".."`, `Basic realm=".."`. */
#define WWW_AUTH_MAX_LEN    8192
#define WWW_AUTH_MAX_PARAMS 32

struct auth_challenge {
        char *scheme;  /* lowercased: "bearer", "basic" */
        char **params; /* name (lowercased), value, name, value ... */
};

int www_authenticate_parse(const char *header, struct auth_challenge **out, size_t *n_out, struct berr **err);
const char *auth_challenge_param(const struct auth_challenge *c, const char *name);
void auth_challenges_free(struct auth_challenge *c, size_t n);

/*
 * Credentials in docker's config.json / podman's auth.json format:
 * {"auths": {"registry[/repo]": {"auth": base64("user:password")}}}.
 * Without an explicit file the search order is podman's: $REGISTRY_AUTH_FILE,
 * ${XDG_RUNTIME_DIR}/containers/auth.json (/run/containers/UID/auth.json),
 * $XDG_CONFIG_HOME/containers/auth.json, ~/.docker/config.json.
 */
struct auth_creds {
        char *username;
        char *password;
};

void auth_creds_free(struct auth_creds *c);
static inline void auth_creds_freep(struct auth_creds **c)
{
        auth_creds_free(*c);
}
#define _cleanup_auth_creds_ _cleanup_(auth_creds_freep)

/* The file `login` writes to (and `logout` edits) when none is given. */
int auth_file_default(char **out, struct berr **err);
/* Finds credentials for registry (host[:port]) and repository path (most specific key wins).
 * Returns 1 with *out set, 0 when there are none. */
int auth_lookup(const char *authfile, const char *registry, const char *repo, struct auth_creds **out,
                struct berr **err);
/* key: "host[:port]" or "host[:port]/repo/path". */
int auth_store(const char *authfile, const char *key, const char *username, const char *password,
               struct berr **err);
/* Returns 1 when an entry was removed, 0 when there was none. key NULL removes all. */
int auth_remove(const char *authfile, const char *key, struct berr **err);

/* base64 of "user:password" and back. */
char *auth_encode_basic(const char *username, const char *password);
int auth_decode_basic(const char *b64, struct auth_creds **out, struct berr **err);
