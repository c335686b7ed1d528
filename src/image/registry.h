/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "registries.h"

/*
 * Distribution-spec v2 client over libcurl for one registry host. Handles of
 * one client share connections, DNS and TLS sessions (CURLSH), so requests
 * from several threads reuse keep-alive connections; HTTP/2 is negotiated
 * over TLS. Authentication follows the WWW-Authenticate challenge: Bearer
 * tokens (fetched once per scope, with the auth file's or given credentials)
 * or Basic. Transient failures (connection resets, 5xx, 429) are retried with
 * exponential backoff; blob downloads resume with Range requests.
 */
struct registry_opts {
        const char *authfile;  /* NULL: podman's search order (auth.h) */
        const char *cert_dir;  /* NULL: /etc/containers/certs.d/HOST, then /etc/docker/certs.d/HOST */
        int tls_verify;        /* -1: verify unless registries.conf marks the host insecure; 0; 1 */
        const char *username;  /* explicit credentials instead of the auth file */
        const char *password;
        const struct registries_conf *conf;
        unsigned retries;       /* attempts after the first for transient failures; 0: default 4 */
        unsigned retry_delay_ms; /* first backoff delay, doubled per attempt; 0: default 200 */
};

struct registry;

/* insecure: the endpoint (e.g. a mirror) was configured insecure. */
int registry_new(const char *domain, bool insecure, const struct registry_opts *o, struct registry **out,
                 struct berr **err);
void registry_free(struct registry *r);
static inline void registry_freep(struct registry **r)
{
        registry_free(*r);
}
#define _cleanup_registry_ _cleanup_(registry_freep)
const char *registry_domain(const struct registry *r);

/* GET /v2/: checks that the registry speaks v2 and that the credentials work (login). */
int registry_ping(struct registry *r, struct berr **err);

/* Fetches a manifest by tag or digest (up to MANIFEST_MAX_SIZE); computes its
 * digest and, when reference is a digest, checks it. */
int registry_get_manifest(struct registry *r, const char *repo, const char *reference, char **buf, size_t *len,
                          char **content_type, char digest[136], struct berr **err);

/* Blob bytes go to sink in order, starting at offset (resuming a partial
 * download). A sink error aborts the transfer and is returned as is. */
typedef int (*registry_sink_t)(void *userdata, const void *buf, size_t len, struct berr **err);
int registry_get_blob(struct registry *r, const char *repo, const char *digest, uint64_t offset,
                      registry_sink_t sink, void *userdata, struct berr **err);
/* A small blob (config) into memory, digest and size checked. */
int registry_get_blob_buf(struct registry *r, const char *repo, const char *digest, int64_t size, size_t max,
                          char **buf, size_t *len, struct berr **err);

/* Push side. */
int registry_blob_exists(struct registry *r, const char *repo, const char *digest, struct berr **err);
/* Cross-repository mount; returns 1 when mounted, 0 when the registry started
 * an upload instead (*upload_url set when it said where). */
int registry_blob_mount(struct registry *r, const char *repo, const char *digest, const char *from,
                        char **upload_url, struct berr **err);
/* Monolithic upload of size bytes from fd (read from offset 0), in an upload
 * session at upload_url or a new one. */
int registry_blob_upload(struct registry *r, const char *repo, const char *digest, int fd, uint64_t size,
                         const char *upload_url, struct berr **err);
int registry_put_manifest(struct registry *r, const char *repo, const char *reference, const char *media_type,
                          const void *buf, size_t len, struct berr **err);
