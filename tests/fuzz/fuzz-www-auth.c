/* SPDX-License-Identifier: Apache-2.0 */
/* WWW-Authenticate parser and base64 credentials from registries and auth files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = strndup((const char *)data, size);
        struct auth_challenge *c = NULL;
        struct auth_creds *cr = NULL;
        struct berr *err = NULL;
        size_t n = 0;

        if (!s)
                return 0;
        if (www_authenticate_parse(s, &c, &n, &err) == 0) {
                for (size_t i = 0; i < n; i++)
                        auth_challenge_param(&c[i], "realm");
                auth_challenges_free(c, n);
        }
        berr_free(err);
        err = NULL;
        if (auth_decode_basic(s, &cr, &err) == 0)
                auth_creds_free(cr);
        berr_free(err);
        free(s);
        return 0;
}
