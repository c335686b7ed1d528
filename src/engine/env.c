/* SPDX-License-Identifier: Apache-2.0 */
/* The container's environment and command, with docker's precedence rules. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "spec-internal.h"

#define ENV_FILE_MAX (16u << 20)
/* bufio.Scanner's token limit, which bounds docker's env-file lines. */
#define ENV_LINE_MAX 65536
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static bool utf8_valid(const unsigned char *s, size_t n)
{
        for (size_t i = 0; i < n;) {
                unsigned char c = s[i];
                size_t len;
                uint32_t cp;

                if (c < 0x80) {
                        i++;
                        continue;
                }
                if ((c & 0xe0) == 0xc0) {
                        len = 2;
                        cp = c & 0x1f;
                } else if ((c & 0xf0) == 0xe0) {
                        len = 3;
                        cp = c & 0x0f;
                } else if ((c & 0xf8) == 0xf0) {
                        len = 4;
                        cp = c & 0x07;
                } else {
                        return false;
                }
                if (i + len > n)
                        return false;
                for (size_t k = 1; k < len; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
                if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
                    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                        return false;
                i += len;
        }
        return true;
}

int engine_env_file_read(const char *path, const char *const *caller_env, char ***out, struct berr **err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        size_t len, lineno = 0;
        char *cur;

        if (fd < 0)
                return berr_errno(err, "--env-file: open `%s`", path);
        if (read_all_fd(fd, ENV_FILE_MAX, &buf, &len, err) < 0)
                return berr_wrap(err, "--env-file: `%s`", path);
        if (strlen(buf) != len)
                return eng_err(err, EINVAL, "--env-file: invalid env file (%s): it contains a NUL byte",
                               path);
        cur = buf;
        while (cur && *cur) {
                char *line = cur, *nl = strchr(cur, '\n'), *eq;
                size_t n;

                lineno++;
                cur = nl ? nl + 1 : NULL;
                n = nl ? (size_t)(nl - line) : strlen(line);
                if (n > ENV_LINE_MAX)
                        return eng_err(err, EINVAL,
                                       "--env-file: invalid env file (%s): line %zu is longer than %d bytes",
                                       path, lineno, ENV_LINE_MAX);
                line[n] = '\0';
                if (n > 0 && line[n - 1] == '\r')
                        line[--n] = '\0';
                if (!utf8_valid((const unsigned char *)line, n))
                        return eng_err(err, EINVAL,
                                       "--env-file: invalid env file (%s): invalid utf8 bytes at line %zu",
                                       path, lineno);
                if (lineno == 1 && strneq(line, "\xef\xbb\xbf", 3))
                        line += 3;
                line += strspn(line, " \t\n\v\f\r");
                if (!*line || *line == '#')
                        continue;
                eq = strchr(line, '=');
                n = eq ? (size_t)(eq - line) : strlen(line);
                if (n == 0)
                        return eng_err(err, EINVAL,
                                       "--env-file: invalid env file (%s): no variable name on line '%s'",
                                       path, line);
                if (strcspn(line, " \t") < n)
                        return eng_err(
                            err, EINVAL,
                            "--env-file: invalid env file (%s): variable '%.*s' contains whitespaces", path,
                            (int)n, line);
                if (eq) {
                        if (strv_extend(out, line) < 0)
                                return berr_make(err, ENOMEM, "--env-file");
                } else {
                        /* A name alone takes the caller's value, or is left out when it has none. */
                        const char *v = engine_getenv(caller_env, line);
                        char *e = NULL;
                        if (!v)
                                continue;
                        if (asprintf(&e, "%s=%s", line, v) < 0 || strv_push(out, e) < 0)
                                return berr_make(err, ENOMEM, "--env-file");
                }
        }
        return 0;
}

static size_t key_len(const char *e)
{
        return strcspn(e, "=");
}

static ssize_t find_key(char *const *l, const char *e)
{
        size_t n = key_len(e);

        for (ssize_t i = 0; l && l[i]; i++)
                if (key_len(l[i]) == n && strneq(l[i], e, n))
                        return i;
        return -1;
}

/* Sets or replaces (keeping the position of) the entry with e's key. */
static int env_set(char ***l, const char *e)
{
        ssize_t i = find_key(*l, e);
        char *d;

        if (i < 0)
                return strv_extend(l, e);
        d = strdup(e);
        if (!d)
                return -ENOMEM;
        free((*l)[i]);
        (*l)[i] = d;
        return 0;
}

int engine_env_build(const struct engine_image_config *img, const struct engine_run_opts *opts,
                     const struct engine_spec_ctx *ctx, const char *hostname, const char *home, char ***out,
                     struct berr **err)
{
        _cleanup_strv_free_ char **user = NULL, **cfg = NULL, **env = NULL;
        _cleanup_free_ char *h = NULL;
        const char *const *caller = ctx ? ctx->caller_env : NULL;

        for (const char *const *f = opts->env_files; f && *f; f++)
                if (engine_env_file_read(*f, caller, &user, err) < 0)
                        return -EINVAL;
        for (const char *const *e = opts->env; e && *e; e++) {
                size_t n = key_len(*e);
                char *d = NULL;

                if (n == 0)
                        return eng_err(err, EINVAL, "--env: invalid environment variable: %s", *e);
                if ((*e)[n] == '=') {
                        d = strdup(*e);
                } else {
                        const char *v = engine_getenv(caller, *e);
                        /* Without a value anywhere the bare name stays: it removes the image's variable. */
                        if (v ? asprintf(&d, "%s=%s", *e, v) < 0 : !(d = strdup(*e)))
                                d = NULL;
                }
                if (strv_push(&user, d) < 0)
                        return berr_make(err, ENOMEM, "--env");
        }

        /* The user's variables, then the image's that the user did not name (moby's merge()). */
        STRV_FOREACH (e, user)
                if (env_set(&cfg, *e) < 0)
                        return berr_make(err, ENOMEM, "env");
        STRV_FOREACH (e, img ? img->env : NULL)
                if (find_key(user, *e) < 0 && env_set(&cfg, *e) < 0)
                        return berr_make(err, ENOMEM, "env");

        /* Defaults that the configuration replaces in place (moby's ReplaceOrAppendEnvValues). */
        if (strv_extend(&env, "PATH=" DEFAULT_PATH) < 0 ||
            asprintf(&h, "HOSTNAME=%s", hostname ? hostname : "") < 0 || strv_push(&env, TAKE_PTR(h)) < 0 ||
            (opts->tty && strv_extend(&env, "TERM=xterm") < 0))
                return berr_make(err, ENOMEM, "env");
        STRV_FOREACH (e, cfg) {
                if ((*e)[key_len(*e)] != '=') {
                        ssize_t i = find_key(env, *e);
                        if (i >= 0) {
                                free(env[i]);
                                memmove(env + i, env + i + 1,
                                        (strv_length(env) - (size_t)i) * sizeof(char *));
                        }
                        continue;
                }
                if (env_set(&env, *e) < 0)
                        return berr_make(err, ENOMEM, "env");
        }
        /* runc sets HOME from the container's passwd when missing; berth-runtime does not, so it is set here.
         */
        if (strv_env_find(env, "HOME", 4) < 0) {
                if (asprintf(&h, "HOME=%s", home && *home ? home : "/") < 0 ||
                    strv_push(&env, TAKE_PTR(h)) < 0)
                        return berr_make(err, ENOMEM, "env");
        }
        *out = TAKE_PTR(env);
        return 0;
}

static int push_all(char ***l, char *const *v)
{
        STRV_FOREACH (s, v)
                if (strv_extend(l, *s) < 0)
                        return -ENOMEM;
        return 0;
}

int engine_args_build(const struct engine_image_config *img, const struct engine_run_opts *opts, char ***out,
                      struct berr **err)
{
        _cleanup_strv_free_ char **args = NULL;
        char *const *cmd = (char *const *)opts->cmd;
        char *const *ep = NULL;
        char *const ep_user[] = {(char *)opts->entrypoint, NULL};

        if (strv_length(cmd) == 0)
                cmd = NULL;
        if (opts->entrypoint) {
                /* An entrypoint given on the command line drops the image's Cmd as well (moby's merge()). */
                ep = ep_user;
        } else {
                ep = img ? img->entrypoint : NULL;
                if (!cmd)
                        cmd = img ? img->cmd : NULL;
        }
        /* [""] is how docker spells "no entrypoint". */
        if (strv_length(ep) == 1 && streq(ep[0], ""))
                ep = NULL;
        if (push_all(&args, ep) < 0 || push_all(&args, cmd) < 0)
                return berr_make(err, ENOMEM, "args");
        if (strv_length(args) == 0)
                return eng_err(err, EINVAL, "no command specified");
        *out = TAKE_PTR(args);
        return 0;
}
