/* SPDX-License-Identifier: Apache-2.0 */
/* The container's /etc/hosts and /etc/resolv.conf. */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "spec-internal.h"

#define HOST_FILE_MAX (1u << 20)

/* docker's default /etc/hosts lines. */
static const char default_hosts[] = "127.0.0.1\tlocalhost\n"
                                    "::1\tlocalhost ip6-localhost ip6-loopback\n"
                                    "fe00::\tip6-localnet\n"
                                    "ff00::\tip6-mcastprefix\n"
                                    "ff02::1\tip6-allnodes\n"
                                    "ff02::2\tip6-allrouters\n";

static bool ip_valid(const char *s)
{
        unsigned char buf[16];

        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool is_loopback(const char *s)
{
        struct in6_addr a6;
        struct in_addr a4;

        if (inet_pton(AF_INET, s, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127;
        if (inet_pton(AF_INET6, s, &a6) == 1)
                return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
        return false;
}

/* Names written into hosts(5): anything but blanks and control characters. */
static bool host_name_ok(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s) || *s == '#')
                        return false;
        return true;
}

/* Host files are optional: a missing one reads as empty. */
static int read_host_file(const char *path, char **out, struct berr **err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0) {
                if (errno == ENOENT) {
                        *out = strdup("");
                        return *out ? 0 : berr_make(err, ENOMEM, "read `%s`", path);
                }
                return berr_errno(err, "open `%s`", path);
        }
        if (read_all_fd(fd, HOST_FILE_MAX, out, NULL, err) < 0)
                return berr_wrap(err, "`%s`", path);
        return 0;
}

static int add_host_parse(const char *spec, const struct engine_spec_ctx *ctx, char **name, char **ip,
                          struct berr **err)
{
        const char *sep = strchr(spec, '=');
        _cleanup_free_ char *n = NULL, *v = NULL;
        size_t vlen;

        if (!sep)
                sep = strchr(spec, ':');
        if (!sep || sep == spec)
                return eng_err(err, EINVAL, "--add-host: bad format for add-host: \"%s\"", spec);
        n = strndup(spec, (size_t)(sep - spec));
        v = strdup(sep + 1);
        if (!n || !v)
                return berr_make(err, ENOMEM, "--add-host");
        if (strchr(n, ':') || !host_name_ok(n))
                return eng_err(err, EINVAL, "--add-host: bad format for add-host: \"%s\"", spec);
        if (streq(v, "host-gateway")) {
                if (!ctx || !ctx->host_gateway)
                        return eng_err(err, EINVAL,
                                       "--add-host: the host-gateway address is not known for %s", spec);
                free(v);
                v = strdup(ctx->host_gateway);
                if (!v)
                        return berr_make(err, ENOMEM, "--add-host");
        }
        vlen = strlen(v);
        if (vlen > 2 && v[0] == '[' && v[vlen - 1] == ']') {
                memmove(v, v + 1, vlen - 2);
                v[vlen - 2] = '\0';
        }
        if (!ip_valid(v))
                return eng_err(err, EINVAL, "--add-host: invalid IP address in add-host: \"%s\"", v);
        *name = TAKE_PTR(n);
        *ip = TAKE_PTR(v);
        return 0;
}

int engine_hosts_render(const struct engine_run_opts *opts, const struct engine_spec_ctx *ctx,
                        const char *hostname, bool host_network, char **out, struct berr **err)
{
        _cleanup_free_ char *buf = NULL, *base = NULL;
        size_t len = 0;
        FILE *f;
        int r = 0;

        if (host_network &&
            read_host_file(ctx && ctx->host_hosts ? ctx->host_hosts : "/etc/hosts", &base, err) < 0)
                return -EIO;
        f = open_memstream(&buf, &len);
        if (!f)
                return berr_make(err, ENOMEM, "hosts");
        fputs(base ? base : default_hosts, f);
        if (base && *base && base[strlen(base) - 1] != '\n')
                fputc('\n', f);
        for (const char *const *a = opts->add_hosts; a && *a && r >= 0; a++) {
                _cleanup_free_ char *name = NULL, *ip = NULL;
                r = add_host_parse(*a, ctx, &name, &ip, err);
                if (r >= 0)
                        fprintf(f, "%s\t%s\n", ip, name);
        }
        if (r >= 0 && !host_network && hostname && *hostname) {
                const char *alias = ctx && ctx->name && !streq(ctx->name, hostname) && host_name_ok(ctx->name)
                                        ? ctx->name
                                        : NULL;
                size_t n_ips = 0;
                for (const char *const *ip = ctx ? ctx->ips : NULL; ip && *ip && r >= 0; ip++, n_ips++) {
                        if (!ip_valid(*ip))
                                r = eng_err(err, EINVAL, "container address `%s` is not an IP address", *ip);
                        else
                                fprintf(f, "%s\t%s%s%s\n", *ip, hostname, alias ? " " : "",
                                        alias ? alias : "");
                }
                /* Without an address the container's own names still resolve (to loopback). */
                if (n_ips == 0)
                        fprintf(f, "127.0.0.1\t%s%s%s\n", hostname, alias ? " " : "", alias ? alias : "");
        }
        for (size_t i = 0; r >= 0 && ctx && i < ctx->n_hosts; i++) {
                const struct engine_host_entry *e = &ctx->hosts[i];
                if (!e->ip || !ip_valid(e->ip)) {
                        r = eng_err(err, EINVAL, "hosts entry: `%s` is not an IP address",
                                    e->ip ? e->ip : "");
                        break;
                }
                fputs(e->ip, f);
                for (const char *const *n = e->names; n && *n; n++) {
                        if (!host_name_ok(*n)) {
                                r = eng_err(err, EINVAL, "hosts entry: `%s` is not a valid host name", *n);
                                break;
                        }
                        fprintf(f, "%s%s", n == e->names ? "\t" : " ", *n);
                }
                fputc('\n', f);
        }
        if (fclose(f) != 0 && r >= 0)
                r = berr_make(err, ENOMEM, "hosts");
        if (r < 0)
                return r;
        *out = TAKE_PTR(buf);
        return 0;
}

static bool search_domain_ok(const char *d)
{
        size_t n = strlen(d);

        if (n > 0 && d[n - 1] == '.')
                n--;
        if (n == 0 || n > 255 || d[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)d[i]) && d[i] != '-' && d[i] != '.' && d[i] != '_')
                        return false;
        return true;
}

int engine_resolv_conf_render(const struct engine_run_opts *opts, const struct engine_spec_ctx *ctx,
                              bool host_network, char **out, struct berr **err)
{
        const char *path = ctx && ctx->host_resolv_conf ? ctx->host_resolv_conf : "/etc/resolv.conf";
        _cleanup_free_ char *host = NULL, *buf = NULL, *search = NULL, *options = NULL;
        _cleanup_strv_free_ char **servers = NULL, **other = NULL;
        size_t len = 0, dropped = 0;
        char *cur, *line;
        FILE *f;
        int r = 0;

        for (const char *const *d = opts->dns; d && *d; d++)
                if (!ip_valid(*d))
                        return eng_err(err, EINVAL, "--dns: `%s` is not an IP address", *d);
        for (const char *const *d = opts->dns_search; d && *d; d++)
                if (!streq(*d, ".") && !search_domain_ok(*d))
                        return eng_err(err, EINVAL, "--dns-search: `%s` is not a valid domain", *d);
        for (const char *const *d = opts->dns_options; d && *d; d++)
                if (!host_name_ok(*d))
                        return eng_err(err, EINVAL, "--dns-option: invalid option `%s`", *d);

        if (read_host_file(path, &host, err) < 0)
                return -EIO;
        for (cur = host; cur && *cur;) {
                char *nl = strchr(cur, '\n'), *word, *rest;
                line = cur;
                cur = nl ? nl + 1 : NULL;
                if (nl)
                        *nl = '\0';
                word = line + strspn(line, " \t");
                rest = word + strcspn(word, " \t");
                if (strneq(word, "nameserver", 10) && (word[10] == ' ' || word[10] == '\t')) {
                        char ip[INET6_ADDRSTRLEN + 16];
                        rest += strspn(rest, " \t");
                        snprintf(ip, sizeof(ip), "%.*s", (int)strcspn(rest, " \t#;\r"), rest);
                        /* Loopback servers of the host are unreachable from the container's own network. */
                        if (!host_network && is_loopback(ip))
                                dropped++;
                        else if (strv_extend(&servers, ip) < 0)
                                return berr_make(err, ENOMEM, "resolv.conf");
                } else if ((strneq(word, "search", 6) || strneq(word, "domain", 6)) &&
                           (word[6] == ' ' || word[6] == '\t')) {
                        /* The last search or domain line wins, as in the resolver. */
                        rest += strspn(rest, " \t");
                        free(search);
                        search = strdup(rest);
                        if (!search)
                                return berr_make(err, ENOMEM, "resolv.conf");
                } else if (strneq(word, "options", 7) && (word[7] == ' ' || word[7] == '\t')) {
                        rest += strspn(rest, " \t");
                        free(options);
                        options = strdup(rest);
                        if (!options)
                                return berr_make(err, ENOMEM, "resolv.conf");
                } else if (*word && *word != '#' && *word != ';' && strv_extend(&other, word) < 0) {
                        return berr_make(err, ENOMEM, "resolv.conf");
                }
        }

        f = open_memstream(&buf, &len);
        if (!f)
                return berr_make(err, ENOMEM, "resolv.conf");
        fprintf(f, "# Generated by berth from %s%s\n", path,
                opts->dns || opts->dns_search || opts->dns_options ? " and --dns* options" : "");
        STRV_FOREACH (o, other)
                fprintf(f, "%s\n", *o);
        if (opts->dns && *opts->dns) {
                for (const char *const *d = opts->dns; *d; d++)
                        fprintf(f, "nameserver %s\n", *d);
        } else if (servers) {
                STRV_FOREACH (s, servers)
                        fprintf(f, "nameserver %s\n", *s);
        } else if (dropped > 0) {
                /* No public fallback (docker uses 8.8.8.8): berth's hosts may have no route to it. */
                fputs("# No nameserver: the host's are loopback addresses, which the container's network\n"
                      "# namespace cannot reach; set one with --dns.\n",
                      f);
        }
        if (opts->dns_search && *opts->dns_search) {
                if (!(strv_length((char *const *)opts->dns_search) == 1 && streq(opts->dns_search[0], "."))) {
                        fputs("search", f);
                        for (const char *const *d = opts->dns_search; *d; d++)
                                if (!streq(*d, "."))
                                        fprintf(f, " %s", *d);
                        fputc('\n', f);
                }
        } else if (search && *search) {
                fprintf(f, "search %s\n", search);
        }
        if (opts->dns_options && *opts->dns_options) {
                fputs("options", f);
                for (const char *const *d = opts->dns_options; *d; d++)
                        fprintf(f, " %s", *d);
                fputc('\n', f);
        } else if (options && *options) {
                fprintf(f, "options %s\n", options);
        }
        if (fclose(f) != 0)
                r = berr_make(err, ENOMEM, "resolv.conf");
        if (r < 0)
                return r;
        *out = TAKE_PTR(buf);
        return 0;
}
