/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <ifaddrs.h>
#include <linux/magic.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "basic/strv.h"
#include "network-internal.h"

bool link_exists(const char *name)
{
        return if_nametoindex(name) != 0;
}

bool path_is_netns(const char *path)
{
        struct statfs sfs;

        return statfs(path, &sfs) == 0 && sfs.f_type == NSFS_MAGIC;
}

/* Interfaces enslaved to the bridge, from /sys/class/net/<br>/brif. */
static int bridge_ports(const char *name, char ***out, struct berr **err)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        *out = NULL;
        if (asprintf(&dir, "/sys/class/net/%s/brif", name) < 0)
                return berr_make(err, ENOMEM, "bridge `%s`", name);
        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return net_err(err, EINVAL, "interface `%s` is not a bridge", name);
                return berr_errno(err, "open `%s`", dir);
        }
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && strv_extend(out, de->d_name) < 0)
                        return berr_make(err, ENOMEM, "bridge `%s`", name);
        return 0;
}

int bridge_delete(const char *name, struct berr **err)
{
        _cleanup_strv_free_ char **ports = NULL;
        _cleanup_close_ int fd = -1;
        struct ifreq ifr = {0};
        int r;

        if (!link_exists(name))
                return 0;
        r = bridge_ports(name, &ports, err);
        if (r < 0)
                return r;
        if (ports)
                return net_err(err, EBUSY, "bridge `%s` still has interface `%s` attached", name, ports[0]);
        fd = socket(AF_LOCAL, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berr_errno(err, "socket");
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return errno == ENODEV ? 0 : berr_errno(err, "get flags of `%s`", name);
        /* The kernel refuses to delete a bridge that is up. */
        ifr.ifr_flags &= (short)~IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return errno == ENODEV ? 0 : berr_errno(err, "set `%s` down", name);
        if (ioctl(fd, SIOCBRDELBR, name) < 0 && errno != ENXIO && errno != ENODEV)
                return berr_errno(err, "delete bridge `%s`", name);
        return 0;
}

static unsigned mask_len(const struct sockaddr *sa)
{
        const unsigned char *b;
        size_t n;
        unsigned len = 0;

        if (sa->sa_family == AF_INET) {
                b = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
                n = 4;
        } else {
                b = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
                n = 16;
        }
        for (size_t i = 0; i < n; i++)
                len += (unsigned)__builtin_popcount(b[i]);
        return len;
}

int host_prefixes(const char *except_link, struct ip_prefix **out, char ***links, size_t *n,
                  struct berr **err)
{
        struct ifaddrs *ifa = NULL;
        _cleanup_free_ struct ip_prefix *v = NULL;
        _cleanup_strv_free_ char **names = NULL;
        size_t count = 0;

        if (getifaddrs(&ifa) < 0)
                return berr_errno(err, "list host addresses");
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
                struct ip_prefix *nv;
                struct ip_prefix p = {0};
                int fam;

                if (!i->ifa_addr || !i->ifa_netmask)
                        continue;
                fam = i->ifa_addr->sa_family;
                if ((fam != AF_INET && fam != AF_INET6) || (except_link && streq(i->ifa_name, except_link)))
                        continue;
                p.addr.family = fam;
                if (fam == AF_INET)
                        memcpy(p.addr.b, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
                else
                        memcpy(p.addr.b, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
                p.len = mask_len(i->ifa_netmask);
                nv = realloc(v, (count + 1) * sizeof(*v));
                if (!nv || strv_extend(&names, i->ifa_name) < 0) {
                        if (nv)
                                v = nv;
                        freeifaddrs(ifa);
                        return berr_make(err, ENOMEM, "host addresses");
                }
                v = nv;
                v[count++] = p;
        }
        freeifaddrs(ifa);
        *out = TAKE_PTR(v);
        *links = TAKE_PTR(names);
        *n = count;
        return 0;
}
