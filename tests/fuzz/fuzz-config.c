/* SPDX-License-Identifier: Apache-2.0 */
/* config.json parser: any input either parses or fails with an error, never crashes or leaks. */
#include <stdint.h>
#include <stdlib.h>

#include "basic/log.h"
#include "oci/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct oci_spec *spec = NULL;
        struct berr *err = NULL;

        log_setup(-1, LOG_FORMAT_TEXT, LOG_LEVEL_ERROR);
        if (oci_spec_parse((const char *)data, size, &spec, &err) == 0)
                oci_spec_free(spec);
        berr_free(err);
        return 0;
}
