/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Streaming sha256/sha512 over OpenSSL EVP, as OCI digests ("sha256:<hex>"). */
enum digest_algo { DIGEST_SHA256, DIGEST_SHA512 };

struct digester;

int digester_new(enum digest_algo algo, struct digester **out, struct berr **err);
int digester_update(struct digester *d, const void *buf, size_t len);
/* Writes "sha256:<64 hex>" (or sha512) into out (at least 136 bytes). */
int digester_final(struct digester *d, char *out, size_t size);
void digester_free(struct digester *d);
static inline void digester_freep(struct digester **d)
{
        digester_free(*d);
}
#define _cleanup_digester_ _cleanup_(digester_freep)

/* Checks "algo:hex" syntax per image-spec (sha256: 64 hex, sha512: 128 hex, lowercase). */
int digest_validate(const char *digest, enum digest_algo *algo, struct berr **err);
int digest_buf(enum digest_algo algo, const void *buf, size_t len, char *out, size_t size);
