/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The network parsers of input berth does not control: -p/--expose specs
 * ('p'), plugin results ('r'), configuration lists ('c') and results-cache
 * records ('a'), selected by the first byte. Any input parses or fails with
 * an error, never crashes or leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/json.h"
#include "basic/log.h"
#include "network/network-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_ports(const char *s)
{
        struct network_port *ports = NULL;
        size_t n = 0;

        if (network_port_parse(s, &ports, &n, NULL) == 0)
                for (size_t i = 0; i < n; i++)
                        free(network_port_format(&ports[i]));
        n = 0;
        free(ports);
        ports = NULL;
        network_port_parse_exposed(s, &ports, &n, NULL);
        free(ports);
}

static void fuzz_json(char kind, json_object *obj)
{
        struct berr *err = NULL;

        if (kind == 'r') {
                struct cni_result *r = NULL;
                if (cni_result_parse(obj, &r, &err) == 0)
                        cni_result_free(r);
        } else if (kind == 'c') {
                json_object *name = NULL;
                char path[300];
                struct network *n = NULL;
                /* Named after itself, as the files in the configuration directory are. */
                snprintf(path, sizeof(path), "/n/%.200s.conflist",
                         json_object_object_get_ex(obj, "name", &name) ? json_object_get_string(name) : "x");
                if (conflist_parse(obj, path, &n, &err) == 0)
                        network_free(n);
        } else if (kind == 'a') {
                struct network_attachment *a = NULL;
                if (record_to_attachment(obj, &a, &err) == 0)
                        network_attachment_free(a);
        }
        berr_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s;
        json_object *obj = NULL;

        log_setup(-1, LOG_FORMAT_TEXT, LOG_LEVEL_ERROR);
        if (size < 1)
                return 0;
        s = strndup((const char *)data + 1, size - 1);
        if (!s)
                return 0;
        if (data[0] == 'p')
                fuzz_ports(s);
        else if (json_parse_buf(s, strlen(s), "fuzz", &obj, NULL) == 0)
                fuzz_json((char)data[0], obj);
        json_object_put(obj);
        free(s);
        return 0;
}
