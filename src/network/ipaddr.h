/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

/* IPv4/IPv6 addresses and prefixes in network byte order. */
struct ip_addr {
        int family; /* AF_INET or AF_INET6 */
        unsigned char b[16];
};

struct ip_prefix {
        struct ip_addr addr; /* the network address (host bits zero) */
        unsigned len;
};

#define IP_STRLEN 64

int ip_addr_parse(const char *s, struct ip_addr *out);
/* "10.89.0.0/24". Host bits must be zero: "10.89.0.5/24" is refused naming 10.89.0.0/24. */
int ip_prefix_parse(const char *s, struct ip_prefix *out, struct berr **err);
/* "10.89.0.5/24" as a CIDR interface address: keeps the host bits in *addr. */
int ip_cidr_parse(const char *s, struct ip_addr *addr, struct ip_prefix *net);
bool ip_prefix_overlaps(const struct ip_prefix *a, const struct ip_prefix *b);
bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a);
/* The n-th address of the prefix (0 = network address); -ERANGE past its end. */
int ip_prefix_nth(const struct ip_prefix *p, uint64_t n, struct ip_addr *out);
/* Network and broadcast addresses of IPv4 prefixes shorter than /31. */
bool ip_prefix_is_reserved(const struct ip_prefix *p, const struct ip_addr *a);
void ip_addr_format(const struct ip_addr *a, char buf[static IP_STRLEN]);
void ip_prefix_format(const struct ip_prefix *p, char buf[static IP_STRLEN]);
