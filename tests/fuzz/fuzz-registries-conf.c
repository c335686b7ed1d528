/* SPDX-License-Identifier: Apache-2.0 */
/* registries.conf (TOML subset) parser and endpoint resolution on what parses. */
#include <stdint.h>
#include <stdlib.h>

#include "basic/log.h"
#include "image/registries.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct registries_conf *c = NULL;
        struct berr *err = NULL;

        log_setup(-1, LOG_FORMAT_TEXT, LOG_LEVEL_ERROR);
        if (registries_conf_parse((const char *)data, size, "fuzz", &c, &err) == 0) {
                struct registry_endpoint *e = NULL;
                size_t n = 0;
                struct berr *e2 = NULL;
                if (registries_conf_endpoints(c, "docker.io", "library/busybox", true, &e, &n, &e2) == 0)
                        registry_endpoints_free(e, n);
                berr_free(e2);
                registries_conf_insecure(c, "localhost:5000");
                registries_conf_free(c);
        }
        berr_free(err);
        return 0;
}
