/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bridge plugin (containernetworking/plugins#810, still in 1.1.1) removes
 * a container's masquerade rules on DEL only when it finds the addresses on
 * the interface inside the namespace: after a crash (namespace gone) or with
 * the interface deleted, the POSTROUTING jump and the CNI-<hash> chain stay
 * forever. After a successful DEL berth removes what is left of them, named
 * the way the plugin names them: the chain is "CNI-" and 24 hex digits of
 * sha512(network name + container id), the comment `name: "N" id: "ID"`.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/digest.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "network-internal.h"

#define IPTABLES_OUTPUT_MAX (4u << 20)

/* Runs argv (from PATH) with stdout captured when out is not NULL; returns the exit status. */
static int run(char *const argv[], char **out, struct berr **err)
{
        _cleanup_close_ int rd = -1, wr = -1, null = open("/dev/null", O_RDWR | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        int pipes[2], status;
        pid_t pid;

        if (null < 0)
                return berr_errno(err, "open /dev/null");
        if (out) {
                if (pipe2(pipes, O_CLOEXEC) < 0)
                        return berr_errno(err, "pipe");
                rd = pipes[0], wr = pipes[1];
        }
        pid = fork();
        if (pid < 0)
                return berr_errno(err, "fork for %s", argv[0]);
        if (pid == 0) {
                if (dup2(null, 0) < 0 || dup2(out ? wr : null, 1) < 0 || dup2(null, 2) < 0)
                        _exit(127);
                execvp(argv[0], argv);
                _exit(127);
        }
        wr = safe_close(wr);
        if (out && read_all_fd(rd, IPTABLES_OUTPUT_MAX, &buf, NULL, err) < 0) {
                kill(pid, SIGKILL);
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                return berr_wrap(err, "%s output", argv[0]);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return berr_errno(err, "wait for %s", argv[0]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) == 127)
                return net_err(err, ENOENT, "%s could not run", argv[0]);
        if (out)
                *out = TAKE_PTR(buf);
        return WEXITSTATUS(status);
}

static int teardown_family(const char *bin, const char *chain, const char *comment, struct berr **err)
{
        _cleanup_free_ char *rules = NULL;
        char *list[] = {(char *)bin, "-w", "-t", "nat", "-S", "POSTROUTING", NULL};
        char *exists[] = {(char *)bin, "-w", "-t", "nat", "-S", (char *)chain, NULL};
        char *flush[] = {(char *)bin, "-w", "-t", "nat", "-F", (char *)chain, NULL};
        char *del[] = {(char *)bin, "-w", "-t", "nat", "-X", (char *)chain, NULL};
        struct berr *e = NULL;
        char suffix[64];
        int r;

        /* The common case, the plugin cleaned up: one call. No binary or table counts as no chain. */
        r = run(exists, NULL, &e);
        if (r != 0) {
                if (r < 0 && e->code != ENOENT) {
                        berr_move(err, &e);
                        return r;
                }
                berr_free(e);
                return 0;
        }
        r = run(list, &rules, err);
        if (r != 0)
                return r < 0 ? r : net_err(err, EIO, "%s -t nat -S POSTROUTING failed", bin);
        snprintf(suffix, sizeof(suffix), " -j %s", chain);
        for (char *line = rules, *next; line && *line; line = next) {
                char *src, *end;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (strlen(line) < strlen(suffix) || !streq(line + strlen(line) - strlen(suffix), suffix) ||
                    !(src = strstr(line, " -s ")))
                        continue;
                src += 4;
                end = strchr(src, ' ');
                if (end)
                        *end = '\0';
                char *rm[] = {(char *)bin, "-w",          "-t", "nat",     "-D",        "POSTROUTING",
                              "-s",        src,           "-m", "comment", "--comment", (char *)comment,
                              "-j",        (char *)chain, NULL};
                log_debug("network: removing leftover masquerade rule for %s (%s)", src, chain);
                if (run(rm, NULL, err) != 0)
                        return net_err(err, EIO, "%s: remove rule -s %s -j %s", bin, src, chain);
        }
        if (run(flush, NULL, err) != 0 || run(del, NULL, err) != 0)
                return net_err(err, EIO, "%s: remove chain %s", bin, chain);
        return 0;
}

/* Address families of the result's addresses; both when there is no result. */
static void result_families(json_object *result, bool *v4, bool *v6)
{
        json_object *ips, *addr;

        *v4 = *v6 = !result;
        if (!result || !json_object_object_get_ex(result, "ips", &ips) ||
            !json_object_is_type(ips, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(ips); i++)
                if (json_object_object_get_ex(json_object_array_get_idx(ips, i), "address", &addr)) {
                        if (strchr(json_object_get_string(addr), ':'))
                                *v6 = true;
                        else
                                *v4 = true;
                }
}

int ipmasq_teardown(json_object *conflist, const char *container_id, json_object *result, struct berr **err)
{
        json_object *plugins, *name;
        _cleanup_free_ char *key = NULL, *comment = NULL;
        char digest[160], chain[32];
        bool masq = false, v4, v6;

        if (!json_object_object_get_ex(conflist, "name", &name) ||
            !json_object_object_get_ex(conflist, "plugins", &plugins) ||
            !json_object_is_type(plugins, json_type_array))
                return 0;
        for (size_t i = 0; i < json_object_array_length(plugins); i++) {
                json_object *p = json_object_array_get_idx(plugins, i), *type, *flag;
                if (json_object_object_get_ex(p, "type", &type) &&
                    streq(json_object_get_string(type), "bridge") &&
                    json_object_object_get_ex(p, "ipMasq", &flag) && json_object_get_boolean(flag))
                        masq = true;
        }
        if (!masq)
                return 0;
        if (asprintf(&key, "%s%s", json_object_get_string(name), container_id) < 0 ||
            asprintf(&comment, "name: \"%s\" id: \"%s\"", json_object_get_string(name), container_id) < 0)
                return berr_make(err, ENOMEM, "masquerade rules");
        if (digest_buf(DIGEST_SHA512, key, strlen(key), digest, sizeof(digest)) < 0)
                return net_err(err, EIO, "sha512");
        snprintf(chain, sizeof(chain), "CNI-%.24s", digest + strlen("sha512:"));
        result_families(result, &v4, &v6);
        if ((v4 && teardown_family("iptables", chain, comment, err) < 0) ||
            (v6 && teardown_family("ip6tables", chain, comment, err) < 0))
                return berr_wrap(err, "remove masquerade rules of container %s", container_id);
        return 0;
}
