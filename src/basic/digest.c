/* SPDX-License-Identifier: Apache-2.0 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "digest.h"

struct digester {
        EVP_MD_CTX *ctx;
        enum digest_algo algo;
};

static const char *const algo_names[] = {"sha256", "sha512"};

int digester_new(enum digest_algo algo, struct digester **out, struct berr **err)
{
        struct digester *d = calloc(1, sizeof(*d));

        if (!d)
                return berr_make(err, ENOMEM, "digest");
        d->algo = algo;
        d->ctx = EVP_MD_CTX_new();
        if (!d->ctx || !EVP_DigestInit_ex(d->ctx, algo == DIGEST_SHA256 ? EVP_sha256() : EVP_sha512(), NULL)) {
                digester_free(d);
                return berr_make(err, 0, "digest: cannot initialize %s", algo_names[algo]);
        }
        *out = d;
        return 0;
}

int digester_update(struct digester *d, const void *buf, size_t len)
{
        return EVP_DigestUpdate(d->ctx, buf, len) ? 0 : -EIO;
}

int digester_final(struct digester *d, char *out, size_t size)
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        size_t off;

        if (!EVP_DigestFinal_ex(d->ctx, md, &n))
                return -EIO;
        off = (size_t)snprintf(out, size, "%s:", algo_names[d->algo]);
        if (off + 2 * n + 1 > size)
                return -ENOBUFS;
        for (unsigned int i = 0; i < n; i++)
                snprintf(out + off + 2 * i, 3, "%02x", md[i]);
        return 0;
}

void digester_free(struct digester *d)
{
        if (!d)
                return;
        EVP_MD_CTX_free(d->ctx);
        free(d);
}

int digest_validate(const char *digest, enum digest_algo *algo, struct berr **err)
{
        const char *colon = digest ? strchr(digest, ':') : NULL;
        size_t want, i;
        enum digest_algo a;

        if (!colon)
                return berr_make(err, 0, "invalid digest `%s`: missing algorithm", digest ? digest : "");
        if ((size_t)(colon - digest) == 6 && strneq(digest, "sha256", 6)) {
                a = DIGEST_SHA256;
                want = 64;
        } else if ((size_t)(colon - digest) == 6 && strneq(digest, "sha512", 6)) {
                a = DIGEST_SHA512;
                want = 128;
        } else {
                return berr_make(err, 0, "invalid digest `%s`: unsupported algorithm", digest);
        }
        for (i = 0; colon[1 + i]; i++)
                if (!strchr("0123456789abcdef", colon[1 + i]))
                        return berr_make(err, 0, "invalid digest `%s`: not lowercase hex", digest);
        if (i != want)
                return berr_make(err, 0, "invalid digest `%s`: want %zu hex digits", digest, want);
        if (algo)
                *algo = a;
        return 0;
}

int digest_buf(enum digest_algo algo, const void *buf, size_t len, char *out, size_t size)
{
        _cleanup_digester_ struct digester *d = NULL;

        if (digester_new(algo, &d, NULL) < 0)
                return -ENOMEM;
        if (digester_update(d, buf, len) < 0)
                return -EIO;
        return digester_final(d, out, size);
}
