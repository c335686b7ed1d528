/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ctr-util.h"
#include "engine/engine.h"

static const struct berth_usage usage = {
    .usage = "berth port CONTAINER [PRIVATE_PORT[/PROTO]]",
    .summary = "List port mappings or a specific mapping for the container",
    .options = "",
};

/* "0.0.0.0:8080", "[::1]:8080" */
static void host_addr(const struct network_port *p, char *buf, size_t size)
{
        bool v6 = strchr(p->host_ip, ':') != NULL;

        snprintf(buf, size, "%s%s%s:%u", v6 ? "[" : "", *p->host_ip ? p->host_ip : "0.0.0.0", v6 ? "]" : "",
                 p->host_port);
}

int cmd_port(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {}};
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_container_ struct container *ct = NULL;
        _cleanup_free_ struct network_port *ports = NULL;
        const char *want_proto = "tcp";
        unsigned long want = 0;
        struct engine *e;
        size_t n = 0, shown = 0;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'h') {
                        berth_print_usage(stdout, &usage);
                        return 0;
                }
                return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
        }
        if (optind >= argc || argc - optind > 2)
                return berth_usage_error(&usage, "\"berth port\" requires 1 or 2 arguments");
        if (argc - optind == 2) {
                char *end;
                want = strtoul(argv[optind + 1], &end, 10);
                if (*end == '/')
                        want_proto = end + 1;
                else if (*end)
                        want = 0;
                if (want == 0 || want > 65535 ||
                    (!streq(want_proto, "tcp") && !streq(want_proto, "udp") && !streq(want_proto, "sctp")))
                        return berth_failf(EXIT_BERTH, "invalid port `%s`: expected PORT[/tcp|udp|sctp]",
                                           argv[optind + 1]);
        }
        if (berth_engine(ctx, &e, &err) < 0 || ctr_lookup(e, argv[optind], &ct, &err) <= 0 ||
            engine_container_ports(e, ct, &ports, &n, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        for (size_t i = 0; i < n; i++) {
                char addr[INET6_ADDRSTRLEN + 16];
                host_addr(&ports[i], addr, sizeof(addr));
                if (!want) {
                        printf("%u/%s -> %s\n", ports[i].container_port, ports[i].protocol, addr);
                        shown++;
                } else if (ports[i].container_port == want && streq(ports[i].protocol, want_proto)) {
                        printf("%s\n", addr);
                        shown++;
                }
        }
        if (want && !shown)
                return berth_failf(EXIT_BERTH, "No public port '%lu/%s' published for %s", want, want_proto,
                                   argv[optind]);
        return 0;
}
