/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "berth.h"
#include "image/auth.h"
#include "image/reference.h"
#include "image/registry.h"

static const struct berth_usage login_usage = {
    .usage = "berth login [options] [REGISTRY]",
    .summary = "Log in to a container registry",
    .options =
        "  -u, --username USER       registry user name\n"
        "  -p, --password PASSWORD   registry password\n"
        "      --password-stdin      read the password from stdin\n"
        "      --get-login           print the user name stored for the registry\n"
        "      --authfile FILE       credentials file (default ${XDG_RUNTIME_DIR}/containers/auth.json)\n"
        "      --cert-dir DIR        certificates for the registry\n"
        "      --tls-verify BOOL     require HTTPS and verify certificates (default true)\n",
};

static const struct berth_usage logout_usage = {
    .usage = "berth logout [options] REGISTRY",
    .summary = "Log out of a container registry",
    .options = "  -a, --all            remove the credentials of every registry\n"
               "      --authfile FILE  credentials file (default ${XDG_RUNTIME_DIR}/containers/auth.json)\n",
};

/* "https://index.docker.io/v1/" -> "docker.io"; "host:5000/ns" stays (a per-repository entry). */
static char *registry_key(const char *arg)
{
        const char *s = arg;
        size_t n;

        if (strneq(s, "https://", 8))
                s += 8;
        else if (strneq(s, "http://", 7))
                s += 7;
        n = strlen(s);
        while (n > 0 && s[n - 1] == '/')
                n--;
        if ((n == 15 && strneq(s, "index.docker.io", 15)) || (n == 18 && strneq(s, "index.docker.io/v1", 18)))
                return strdup("docker.io");
        return strndup(s, n);
}

static char *prompt(const char *what, bool echo)
{
        struct termios old, t;
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        bool restore = false;

        fprintf(stderr, "%s: ", what);
        fflush(stderr);
        if (!echo && tcgetattr(STDIN_FILENO, &old) == 0) {
                t = old;
                t.c_lflag &= ~(tcflag_t)ECHO;
                restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0;
        }
        n = getline(&line, &cap, stdin);
        if (restore) {
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
                fputc('\n', stderr);
        }
        if (n < 0) {
                free(line);
                return NULL;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
        return line;
}

int cmd_login(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"username", required_argument, NULL, 'u'},
            {"password", required_argument, NULL, 'p'},
            {"password-stdin", no_argument, NULL, 'P'},
            {"get-login", no_argument, NULL, 'g'},
            REGISTRY_LONG_OPTIONS,
            {},
        };
        struct registry_flags rf = REGISTRY_FLAGS_INIT;
        struct registry_opts ro = {0};
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_free_ char *key = NULL, *user = NULL, *pass = NULL, *domain = NULL;
        _cleanup_(registry_freep) struct registry *reg = NULL;
        bool pass_stdin = false, get_login = false;
        int c, ret = EXIT_BERTH;

        (void)ctx;
        optind = 0;
        while ((c = getopt_long(argc, argv, "hu:p:", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &login_usage);
                        return 0;
                case 'u':
                        free(user);
                        user = strdup(optarg);
                        break;
                case 'p':
                        free(pass);
                        pass = strdup(optarg);
                        break;
                case 'P':
                        pass_stdin = true;
                        break;
                case 'g':
                        get_login = true;
                        break;
                case OPT_CREDS:
                case '?':
                        registry_flags_clear(&rf);
                        return berth_usage_error(&login_usage, "unknown flag: %s", argv[optind - 1]);
                default:
                        if (registry_flags_parse(&rf, c, optarg) < 0)
                                goto out;
                }
        }
        if (argc - optind > 1) {
                registry_flags_clear(&rf);
                return berth_usage_error(&login_usage, "\"berth login\" accepts at most 1 argument");
        }
        key = registry_key(optind < argc ? argv[optind] : "docker.io");
        if (!key || !*key) {
                ret = berth_failf(EXIT_BERTH, "invalid registry `%s`", optind < argc ? argv[optind] : "");
                goto out;
        }
        domain = strndup(key, strcspn(key, "/"));
        if (get_login) {
                _cleanup_(auth_creds_freep) struct auth_creds *cr = NULL;
                int r =
                    auth_lookup(rf.authfile, domain, strchr(key, '/') ? strchr(key, '/') + 1 : "", &cr, &err);
                if (r < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                } else if (r == 0) {
                        ret = berth_failf(EXIT_BERTH, "not logged into %s", key);
                } else {
                        printf("%s\n", cr->username);
                        ret = 0;
                }
                goto out;
        }
        if (pass && pass_stdin) {
                ret = berth_failf(EXIT_BERTH, "--password and --password-stdin are mutually exclusive");
                goto out;
        }
        if (pass_stdin) {
                _cleanup_free_ char *buf = NULL;
                size_t n = 0;
                if (read_all_fd(STDIN_FILENO, 4096, &buf, &n, &err) < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        goto out;
                }
                while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                        buf[--n] = '\0';
                pass = TAKE_PTR(buf);
        }
        if (!user && !(user = prompt("Username", true))) {
                ret = berth_failf(EXIT_BERTH, "a user name is required (-u)");
                goto out;
        }
        if (!pass && !(pass = prompt("Password", false))) {
                ret = berth_failf(EXIT_BERTH, "a password is required (-p or --password-stdin)");
                goto out;
        }
        if (!*user || !*pass) {
                ret = berth_failf(EXIT_BERTH, "user name and password must not be empty");
                goto out;
        }
        registry_flags_apply(&rf, &ro);
        ro.username = user;
        ro.password = pass;
        if (registry_new(domain, false, &ro, &reg, &err) < 0 || registry_ping(reg, &err) < 0) {
                berr_wrap(&err, "logging into \"%s\"", key);
                ret = berth_fail(&err, EXIT_BERTH);
                goto out;
        }
        if (auth_store(rf.authfile, key, user, pass, &err) < 0) {
                ret = berth_fail(&err, EXIT_BERTH);
                goto out;
        }
        printf("Login Succeeded!\n");
        ret = 0;
out:
        if (pass)
                explicit_bzero(pass, strlen(pass));
        registry_flags_clear(&rf);
        return ret;
}

int cmd_logout(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"all", no_argument, NULL, 'a'},
            {"authfile", required_argument, NULL, 'A'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_free_ char *key = NULL;
        const char *authfile = NULL;
        bool all = false;
        int c, r;

        (void)ctx;
        optind = 0;
        while ((c = getopt_long(argc, argv, "ha", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &logout_usage);
                        return 0;
                case 'a':
                        all = true;
                        break;
                case 'A':
                        authfile = optarg;
                        break;
                default:
                        return berth_usage_error(&logout_usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (all) {
                if (optind != argc)
                        return berth_usage_error(&logout_usage, "--all takes no registry");
                if (auth_remove(authfile, NULL, &err) < 0)
                        return berth_fail(&err, EXIT_BERTH);
                printf("Removed login credentials for all registries\n");
                return 0;
        }
        if (argc - optind > 1)
                return berth_usage_error(&logout_usage, "\"berth logout\" accepts at most 1 argument");
        key = registry_key(optind < argc ? argv[optind] : "docker.io");
        if (!key)
                return berth_failf(EXIT_BERTH, "out of memory");
        r = auth_remove(authfile, key, &err);
        if (r < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (r == 0)
                return berth_failf(EXIT_BERTH, "not logged into %s", key);
        printf("Removed login credentials for %s\n", key);
        return 0;
}
