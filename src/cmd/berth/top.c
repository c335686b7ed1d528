/* SPDX-License-Identifier: Apache-2.0 */
/* berth top: the host's ps, limited to the container's processes, as docker does it. */
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "ctr-util.h"
#include "engine/engine.h"
#include "engine/stats.h"

#define PS_OUTPUT_MAX (16u << 20)

static const struct berth_usage usage = {
    .usage = "berth top CONTAINER [ps OPTIONS]",
    .summary = "Display the running processes of a container",
    .options = "",
};

/* Runs ps with argv, *out gets its stdout; returns its exit status (or -1 with err). */
static int run_ps(char **argv, char **out, char *msg, size_t msg_size, struct berr **err)
{
        _cleanup_close_ int o = memfd_create("berth-ps", MFD_CLOEXEC),
                            e = memfd_create("berth-ps-err", MFD_CLOEXEC);
        size_t len;
        int status;
        pid_t pid;

        if (o < 0 || e < 0)
                return berr_errno(err, "run ps");
        pid = fork();
        if (pid < 0)
                return berr_errno(err, "run ps");
        if (pid == 0) {
                int null_fd = open("/dev/null", O_RDONLY);
                dup2(null_fd, 0);
                dup2(o, 1);
                dup2(e, 2);
                execvp("ps", argv);
                dprintf(2, "ps: %m");
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return berr_errno(err, "wait for ps");
        lseek(o, 0, SEEK_SET);
        lseek(e, 0, SEEK_SET);
        if (read_all_fd(o, PS_OUTPUT_MAX, out, &len, err) < 0)
                return -1;
        {
                ssize_t n = pread(e, msg, msg_size - 1, 0);
                msg[n > 0 ? n : 0] = '\0';
                msg[strcspn(msg, "\n")] = '\0';
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Go's strings.Fields for ASCII whitespace. */
static char **fields(const char *line)
{
        char **v = calloc(1, sizeof(char *));

        while (v && *line) {
                size_t n;
                while (isspace((unsigned char)*line))
                        line++;
                n = strcspn(line, " \t\r\v\f");
                if (!n)
                        break;
                if (strv_push(&v, strndup(line, n)) < 0) {
                        strv_free(v);
                        return NULL;
                }
                line += n;
        }
        return v;
}

static bool has_pid(const pid_t *pids, size_t n, long p)
{
        for (size_t i = 0; i < n; i++)
                if (pids[i] == p)
                        return true;
        return false;
}

static void print_cell(const char *s, size_t width, bool last)
{
        if (last)
                printf("%s\n", s);
        else
                printf("%-*s", (int)(width + 3 > 20 ? width + 3 : 20), s);
}

int cmd_top(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {}};
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_container_ struct container *ct = NULL;
        _cleanup_strv_free_ char **args = NULL, **titles = NULL;
        _cleanup_free_ char *out = NULL, *qlist = NULL, *joined = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        _cleanup_free_ size_t *width = NULL;
        char ***rows = NULL;
        size_t n = 0, n_rows = 0, n_titles, pid_col = SIZE_MAX, len = 0;
        char msg[512];
        struct engine *e;
        int c, r;

        optind = 0;
        /* "+": what follows the container goes to ps, dashes and all. */
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
                if (c == 'h') {
                        berth_print_usage(stdout, &usage);
                        return 0;
                }
                return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
        }
        if (optind >= argc)
                return berth_usage_error(&usage, "\"berth top\" requires at least 1 argument");
        if (berth_engine(ctx, &e, &err) < 0 || ctr_lookup(e, argv[optind], &ct, &err) <= 0 ||
            engine_container_pids(e, ct, &pids, &n, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        /* docker joins the options with spaces and splits them again. */
        for (int i = optind + 1; i < argc; i++)
                len += strlen(argv[i]) + 1;
        joined = calloc(1, len + 1);
        if (!joined)
                return berth_failf(EXIT_BERTH, "out of memory");
        for (int i = optind + 1; i < argc; i++) {
                strcat(joined, argv[i]);
                strcat(joined, " ");
        }
        {
                _cleanup_strv_free_ char **opts_given = fields(optind + 1 < argc ? joined : "-ef");
                qlist = calloc(1, n * 12 + 1);
                if (!opts_given || !qlist || strv_extend(&args, "ps") < 0)
                        return berth_failf(EXIT_BERTH, "out of memory");
                STRV_FOREACH (a, opts_given)
                        if (strv_extend(&args, *a) < 0)
                                return berth_failf(EXIT_BERTH, "out of memory");
        }
        for (size_t i = 0; i < n; i++)
                sprintf(qlist + strlen(qlist), "%s%d", i ? "," : "", (int)pids[i]);
        if (n && (strv_extend(&args, "-q") < 0 || strv_extend(&args, qlist) < 0))
                return berth_failf(EXIT_BERTH, "out of memory");
        r = run_ps(args, &out, msg, sizeof(msg), &err);
        if (r < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (r != 0 && n) {
                /* Some options (f) do not go with -q: ps without it, filtered below anyway. */
                size_t l = strv_length(args);
                free(args[l - 1]);
                free(args[l - 2]);
                args[l - 2] = args[l - 1] = NULL;
                free(TAKE_PTR(out));
                r = run_ps(args, &out, msg, sizeof(msg), &err);
                if (r < 0)
                        return berth_fail(&err, EXIT_BERTH);
        }
        if (r != 0)
                return berth_failf(EXIT_BERTH, "ps: %s", *msg ? msg : "failed");
        {
                char *save = NULL, *line = strtok_r(out, "\n", &save);
                titles = line ? fields(line) : calloc(1, sizeof(char *));
                if (!titles)
                        return berth_failf(EXIT_BERTH, "out of memory");
                n_titles = strv_length(titles);
                for (size_t i = 0; i < n_titles; i++)
                        if (streq(titles[i], "PID")) {
                                pid_col = i;
                                break;
                        }
                if (pid_col == SIZE_MAX)
                        return berth_failf(EXIT_BERTH, "couldn't find PID field in ps output");
                width = calloc(n_titles, sizeof(size_t));
                if (!width)
                        return berth_failf(EXIT_BERTH, "out of memory");
                for (size_t i = 0; i < n_titles; i++)
                        width[i] = strlen(titles[i]);
                while ((line = strtok_r(NULL, "\n", &save))) {
                        _cleanup_strv_free_ char **f = fields(line);
                        size_t nf = strv_length(f);
                        char *end;
                        long p;
                        if (!f || nf <= pid_col)
                                continue;
                        p = streq(f[pid_col], "-") ? 0 : strtol(f[pid_col], &end, 10);
                        if (!has_pid(pids, n, p))
                                continue;
                        /* Fields beyond the titles belong to the last column (the command line). */
                        char **row = calloc(n_titles + 1, sizeof(char *));
                        char ***nr = realloc(rows, (n_rows + 1) * sizeof(*rows));
                        if (!row || !nr) {
                                free(row);
                                return berth_failf(EXIT_BERTH, "out of memory");
                        }
                        rows = nr;
                        for (size_t i = 0; i + 1 < n_titles && i < nf; i++)
                                row[i] = strdup(f[i]);
                        {
                                size_t l = 1;
                                for (size_t i = n_titles - 1; i < nf; i++)
                                        l += strlen(f[i]) + 1;
                                row[n_titles - 1] = calloc(1, l);
                                for (size_t i = n_titles - 1; i < nf && row[n_titles - 1]; i++) {
                                        if (i > n_titles - 1)
                                                strcat(row[n_titles - 1], " ");
                                        strcat(row[n_titles - 1], f[i]);
                                }
                        }
                        for (size_t i = 0; i < n_titles; i++)
                                if (row[i] && strlen(row[i]) > width[i])
                                        width[i] = strlen(row[i]);
                        rows[n_rows++] = row;
                }
        }
        /* docker's tabwriter: cells at least 20 wide, 3 spaces of padding, the last one as is. */
        for (size_t i = 0; i < n_titles; i++)
                print_cell(titles[i], width[i], i + 1 == n_titles);
        for (size_t j = 0; j < n_rows; j++) {
                for (size_t i = 0; i < n_titles; i++)
                        print_cell(rows[j][i] ? rows[j][i] : "", width[i], i + 1 == n_titles);
                for (size_t i = 0; i < n_titles; i++)
                        free(rows[j][i]);
                free(rows[j]);
        }
        free(rows);
        return 0;
}
