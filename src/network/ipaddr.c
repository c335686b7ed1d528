/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "network-internal.h"

static size_t addr_len(int family)
{
        return family == AF_INET ? 4 : 16;
}

int ip_addr_parse(const char *s, struct ip_addr *out)
{
        memset(out, 0, sizeof(*out));
        if (inet_pton(AF_INET, s, out->b) == 1) {
                out->family = AF_INET;
                return 0;
        }
        if (inet_pton(AF_INET6, s, out->b) == 1) {
                out->family = AF_INET6;
                return 0;
        }
        return -EINVAL;
}

static void mask_host_bits(struct ip_addr *a, unsigned len)
{
        size_t n = addr_len(a->family);

        for (size_t i = 0; i < n; i++) {
                unsigned bits = len > i * 8 ? len - (unsigned)i * 8 : 0;
                if (bits >= 8)
                        continue;
                a->b[i] &= (unsigned char)(0xff00u >> bits);
        }
}

int ip_cidr_parse(const char *s, struct ip_addr *addr, struct ip_prefix *net)
{
        char buf[IP_STRLEN], *slash, *end;
        unsigned long len;

        if (strlen(s) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, s);
        slash = strchr(buf, '/');
        if (!slash || !slash[1] || slash[1] == '+' || slash[1] == '-')
                return -EINVAL;
        *slash = '\0';
        if (ip_addr_parse(buf, addr) < 0)
                return -EINVAL;
        errno = 0;
        len = strtoul(slash + 1, &end, 10);
        if (errno || *end || len > addr_len(addr->family) * 8)
                return -EINVAL;
        net->addr = *addr;
        net->len = (unsigned)len;
        mask_host_bits(&net->addr, net->len);
        return 0;
}

int ip_prefix_parse(const char *s, struct ip_prefix *out, struct berr **err)
{
        struct ip_addr a;
        char canon[IP_STRLEN];

        if (ip_cidr_parse(s, &a, out) < 0)
                return net_err(err, EINVAL, "invalid subnet `%s`: expected ADDRESS/PREFIX-LENGTH", s);
        if (memcmp(a.b, out->addr.b, sizeof(a.b)) != 0) {
                ip_prefix_format(out, canon);
                return net_err(err, EINVAL, "invalid subnet `%s`: host bits are set, did you mean %s?", s,
                               canon);
        }
        return 0;
}

static bool prefix_bits_equal(const struct ip_addr *a, const struct ip_addr *b, unsigned len)
{
        struct ip_addr x = *a, y = *b;

        mask_host_bits(&x, len);
        mask_host_bits(&y, len);
        return memcmp(x.b, y.b, addr_len(a->family)) == 0;
}

bool ip_prefix_overlaps(const struct ip_prefix *a, const struct ip_prefix *b)
{
        if (a->addr.family != b->addr.family)
                return false;
        return prefix_bits_equal(&a->addr, &b->addr, MIN(a->len, b->len));
}

bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
        if (p->addr.family != a->family)
                return false;
        return prefix_bits_equal(&p->addr, a, p->len);
}

int ip_prefix_nth(const struct ip_prefix *p, uint64_t n, struct ip_addr *out)
{
        size_t alen = addr_len(p->addr.family);
        unsigned host_bits = (unsigned)alen * 8 - p->len;
        unsigned carry = 0;

        if (host_bits < 64 && n >> host_bits)
                return -ERANGE;
        *out = p->addr;
        for (int i = (int)alen - 1; i >= 0; i--) {
                unsigned v = out->b[i] + (unsigned)(n & 0xff) + carry;
                out->b[i] = (unsigned char)v;
                carry = v >> 8;
                n >>= 8;
        }
        return 0;
}

bool ip_prefix_is_reserved(const struct ip_prefix *p, const struct ip_addr *a)
{
        struct ip_addr last;

        if (p->addr.family != AF_INET || p->len >= 31)
                return false;
        if (memcmp(a->b, p->addr.b, 4) == 0)
                return true;
        if (ip_prefix_nth(p, (UINT64_C(1) << (32 - p->len)) - 1, &last) < 0)
                return false;
        return memcmp(a->b, last.b, 4) == 0;
}

void ip_addr_format(const struct ip_addr *a, char buf[static IP_STRLEN])
{
        if (!inet_ntop(a->family, a->b, buf, IP_STRLEN))
                strcpy(buf, "?");
}

void ip_prefix_format(const struct ip_prefix *p, char buf[static IP_STRLEN])
{
        size_t l;

        ip_addr_format(&p->addr, buf);
        l = strlen(buf);
        snprintf(buf + l, IP_STRLEN - l, "/%u", p->len);
}
