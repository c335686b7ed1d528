/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/path.h"
#include "network-internal.h"

#define OR(field, def) (env && env->field && *env->field ? env->field : (def))

int net_err(struct berr **err, int code, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        bool fresh = err && !*err;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return berr_make(err, ENOMEM, "error message");
        berr_make(err, 0, "%s", msg);
        if (fresh && *err)
                (*err)->code = code;
        return -code;
}

const char *env_config_dir(const struct network_env *env)
{
        return OR(config_dir, NETWORK_CONFIG_DIR);
}

const char *env_state_dir(const struct network_env *env)
{
        return OR(state_dir, NETWORK_STATE_DIR);
}

const char *env_run_dir(const struct network_env *env)
{
        return OR(run_dir, NETWORK_RUN_DIR);
}

const char *env_cni_path(const struct network_env *env)
{
        return OR(cni_path, NETWORK_CNI_PATH);
}

const char *env_default_name(const struct network_env *env)
{
        return OR(default_name, NETWORK_DEFAULT_NAME);
}

const char *env_default_bridge(const struct network_env *env)
{
        return OR(default_bridge, NETWORK_DEFAULT_BRIDGE);
}

const char *env_default_subnet(const struct network_env *env)
{
        return OR(default_subnet, NETWORK_DEFAULT_SUBNET);
}

unsigned env_plugin_timeout(const struct network_env *env)
{
        return env && env->plugin_timeout ? env->plugin_timeout : NETWORK_PLUGIN_TIMEOUT;
}

static bool name_char(char c, bool first)
{
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                return true;
        return !first && (c == '_' || c == '.' || c == '-');
}

int name_check(const char *what, const char *s, struct berr **err)
{
        size_t len;

        if (strempty(s))
                return net_err(err, EINVAL, "%s must not be empty", what);
        len = strlen(s);
        if (len > NAME_MAX_LEN)
                return net_err(err, EINVAL, "%s `%.32s...` is longer than %d characters", what, s,
                               NAME_MAX_LEN);
        for (size_t i = 0; i < len; i++)
                if (!name_char(s[i], i == 0))
                        return net_err(err, EINVAL, "invalid %s `%s`: must match [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                                       what, s);
        return 0;
}

int ifname_check(const char *s, struct berr **err)
{
        size_t len = s ? strlen(s) : 0;

        if (len == 0 || len > 15 || streq(s, ".") || streq(s, ".."))
                return net_err(err, EINVAL, "invalid interface name `%s`: 1 to 15 characters", s ? s : "");
        for (size_t i = 0; i < len; i++)
                if (!name_char(s[i], false))
                        return net_err(err, EINVAL, "invalid interface name `%s`: must match [a-zA-Z0-9_.-]+",
                                       s);
        return 0;
}

/* RFC 1123 labels, plus '_' which docker and podman accept in container names. */
bool hostname_valid(const char *s)
{
        size_t len = s ? strlen(s) : 0, label = 0;

        if (len == 0 || len > 253)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!name_char(c, false) || (label == 0 && c == '-') || ++label > 63)
                        return false;
        }
        return s[len - 1] != '.' && s[len - 1] != '-';
}

int env_lock(const struct network_env *env, int *fd, struct berr **err)
{
        _cleanup_free_ char *path = path_join(env_state_dir(env), "lock");
        _cleanup_close_ int lfd = -1;
        int r;

        if (!path)
                return berr_make(err, ENOMEM, "lock");
        r = mkdir_p(env_state_dir(env), 0700, err);
        if (r < 0)
                return r;
        lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lfd < 0)
                return berr_errno(err, "open lock file `%s`", path);
        while (flock(lfd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return berr_errno(err, "lock `%s`", path);
        *fd = TAKE_FD(lfd);
        return 0;
}
