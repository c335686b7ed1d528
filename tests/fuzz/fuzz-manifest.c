/* SPDX-License-Identifier: Apache-2.0 */
/* Manifest/index parser with each content type, and platform selection on what parses. */
#include <stdint.h>
#include <stdlib.h>

#include "basic/log.h"
#include "image/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const types[] = {NULL, MT_OCI_MANIFEST, MT_OCI_INDEX, MT_DOCKER_MANIFEST, MT_DOCKER_LIST,
                                            "application/json"};

        log_setup(-1, LOG_FORMAT_TEXT, LOG_LEVEL_ERROR);
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                struct manifest *m = NULL;
                struct berr *err = NULL;
                if (manifest_parse((const char *)data, size, types[i], &m, &err) == 0 && m->kind == MANIFEST_INDEX) {
                        struct platform *p = NULL;
                        size_t idx;
                        if (platform_parse("linux/arm64", &p, NULL) == 0) {
                                manifest_select_platform(m, p, &idx, &err);
                                platform_free(p);
                        }
                }
                manifest_free(m);
                berr_free(err);
        }
        return 0;
}
