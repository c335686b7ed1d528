/* SPDX-License-Identifier: Apache-2.0 */
/* Image reference parser: any input parses or fails with an error; a parsed one prints and parses back the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *s = strndup((const char *)data, size);
        struct image_ref *r = NULL, *again = NULL;
        struct berr *err = NULL;

        if (!s)
                return 0;
        if (image_ref_parse(s, &r, &err) == 0) {
                char *str = image_ref_string(r);
                if (!str || image_ref_parse(str, &again, NULL) < 0 || !streq(again->domain, r->domain) ||
                    !streq(again->path, r->path))
                        abort();
                free(str);
                image_ref_free(again);
                image_ref_free(r);
        }
        berr_free(err);
        if (image_ref_parse_repo(s, &r, NULL) == 0)
                image_ref_free(r);
        return 0;
}
