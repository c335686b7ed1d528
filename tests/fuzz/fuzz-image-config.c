/* SPDX-License-Identifier: Apache-2.0 */
/* Image config parser (and the RFC 3339 timestamps inside). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct image_config *c = NULL;
        struct berr *err = NULL;
        char *s = strndup((const char *)data, size);
        int64_t ns;

        if (image_config_parse((const char *)data, size, &c, &err) == 0)
                image_config_free(c);
        berr_free(err);
        if (s)
                parse_rfc3339(s, &ns);
        free(s);
        return 0;
}
