/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "basic/error.h"
#include "image/registry.h"
#include "image/store.h"

/* Exit codes as podman's: 125 for berth's own failures. */
#define EXIT_BERTH 125
/* podman's for rm, rmi and their kin: 1 an object was not found, 2 an object is in use. */
#define EXIT_NOT_FOUND 1
#define EXIT_IN_USE    2

struct engine;

struct berth_ctx {
        const char *root;
        struct image_store *store;
        const char *argv0;
        const char *runroot; /* NULL: the engine's default */
        const char *config;  /* --config; NULL: /etc/berth/berth.conf when it exists */
        struct engine *engine;
};

/*
 * A command: run() gets argv with argv[0] = the command name and returns the
 * process exit code. Groups (image, system) have their own table. The engine
 * adds its container commands to the same table in main.c.
 */
struct berth_command {
        const char *name;
        int (*run)(struct berth_ctx *ctx, int argc, char **argv);
        const char *summary;
        bool hidden; /* aliases such as `image ls` -> `images` */
};

/* Image commands (one file each). */
int cmd_pull(struct berth_ctx *ctx, int argc, char **argv);
int cmd_push(struct berth_ctx *ctx, int argc, char **argv);
int cmd_images(struct berth_ctx *ctx, int argc, char **argv);
int cmd_image_inspect(struct berth_ctx *ctx, int argc, char **argv);
int cmd_tag(struct berth_ctx *ctx, int argc, char **argv);
int cmd_rmi(struct berth_ctx *ctx, int argc, char **argv);
int cmd_image_prune(struct berth_ctx *ctx, int argc, char **argv);
int cmd_save(struct berth_ctx *ctx, int argc, char **argv);
int cmd_load(struct berth_ctx *ctx, int argc, char **argv);
int cmd_import(struct berth_ctx *ctx, int argc, char **argv);
int cmd_login(struct berth_ctx *ctx, int argc, char **argv);
int cmd_logout(struct berth_ctx *ctx, int argc, char **argv);
int cmd_history(struct berth_ctx *ctx, int argc, char **argv);
int cmd_image_mount(struct berth_ctx *ctx, int argc, char **argv);
int cmd_image_unmount(struct berth_ctx *ctx, int argc, char **argv);
int cmd_system_df(struct berth_ctx *ctx, int argc, char **argv);
int cmd_system_check(struct berth_ctx *ctx, int argc, char **argv);
int cmd_system_prune(struct berth_ctx *ctx, int argc, char **argv);
int cmd_version(struct berth_ctx *ctx, int argc, char **argv);

/* Container commands (one file each; shared helpers in ctr-util.c). */
int cmd_run(struct berth_ctx *ctx, int argc, char **argv);
int cmd_create(struct berth_ctx *ctx, int argc, char **argv);
int cmd_start(struct berth_ctx *ctx, int argc, char **argv);
int cmd_stop(struct berth_ctx *ctx, int argc, char **argv);
int cmd_restart(struct berth_ctx *ctx, int argc, char **argv);
int cmd_kill(struct berth_ctx *ctx, int argc, char **argv);
int cmd_rm(struct berth_ctx *ctx, int argc, char **argv);
int cmd_ps(struct berth_ctx *ctx, int argc, char **argv);
int cmd_inspect(struct berth_ctx *ctx, int argc, char **argv);
int cmd_container_inspect(struct berth_ctx *ctx, int argc, char **argv);
int cmd_wait(struct berth_ctx *ctx, int argc, char **argv);
int cmd_logs(struct berth_ctx *ctx, int argc, char **argv);
int cmd_exec(struct berth_ctx *ctx, int argc, char **argv);
int cmd_attach(struct berth_ctx *ctx, int argc, char **argv);
int cmd_container_cleanup(struct berth_ctx *ctx, int argc, char **argv);
/* The remaining container commands (one file each). */
int cmd_cp(struct berth_ctx *ctx, int argc, char **argv);
int cmd_commit(struct berth_ctx *ctx, int argc, char **argv);
int cmd_export(struct berth_ctx *ctx, int argc, char **argv);
int cmd_diff(struct berth_ctx *ctx, int argc, char **argv);
int cmd_top(struct berth_ctx *ctx, int argc, char **argv);
int cmd_stats(struct berth_ctx *ctx, int argc, char **argv);
int cmd_rename(struct berth_ctx *ctx, int argc, char **argv);
int cmd_pause(struct berth_ctx *ctx, int argc, char **argv);
int cmd_unpause(struct berth_ctx *ctx, int argc, char **argv);
int cmd_update(struct berth_ctx *ctx, int argc, char **argv);
int cmd_events(struct berth_ctx *ctx, int argc, char **argv);
int cmd_container_prune(struct berth_ctx *ctx, int argc, char **argv);
int cmd_info(struct berth_ctx *ctx, int argc, char **argv);

/* Volume and network groups (volume.c, network.c). */
int cmd_volume(struct berth_ctx *ctx, int argc, char **argv);
int cmd_network(struct berth_ctx *ctx, int argc, char **argv);
int cmd_port(struct berth_ctx *ctx, int argc, char **argv);

/* Runs a subcommand of a group (argv[0] is the group's name) from its table. */
int berth_group(struct berth_ctx *ctx, const char *group, const struct berth_command *v, size_t n, int argc,
                char **argv);

/* Prints "Error: msg" to stderr, frees the error, returns code. */
int berth_fail(struct berr **err, int code);
int berth_failf(int code, const char *fmt, ...) _printf_(2, 3);
/* Opens the store at --root (once). */
int berth_store(struct berth_ctx *ctx, struct image_store **out, struct berr **err);
/* Opens the engine (once), sharing the store. */
int berth_engine(struct berth_ctx *ctx, struct engine **out, struct berr **err);
/* Records an event of an image, volume or network command (docker's type and action); never fails. */
void berth_event(struct berth_ctx *ctx, const char *type, const char *action, const char *id,
                 const char *const *attrs);
/* system prune's network part: the unused networks, listed under "Deleted Networks:". */
int berth_prune_networks(struct berth_ctx *ctx);

/*
 * Option parsing shared by the commands: getopt_long with "--help" mapped to
 * printing usage. Returns 0 to continue, 1 when help was printed (exit 0), or
 * an exit code + 1000 for a usage error. Flags are docker/podman spellings.
 */
struct berth_usage {
        const char *usage;   /* "berth pull [options] IMAGE" */
        const char *summary; /* one line */
        const char *options; /* option lines, already formatted */
};
void berth_print_usage(FILE *f, const struct berth_usage *u);
int berth_usage_error(const struct berth_usage *u, const char *fmt, ...) _printf_(2, 3);

/* --tls-verify=BOOL, --cert-dir, --authfile, --creds USER[:PASS] */
struct registry_flags {
        int tls_verify;
        const char *cert_dir;
        const char *authfile;
        char *creds_user;
        char *creds_pass;
};
#define REGISTRY_FLAGS_INIT                                                                                  \
        {                                                                                                    \
                .tls_verify = -1                                                                             \
        }
#define REGISTRY_OPTIONS_HELP                                                                                \
        "      --authfile FILE       credentials file (default: podman's auth.json search order)\n"          \
        "      --cert-dir DIR        certificates (*.crt CAs, *.cert/*.key client) for the registry\n"       \
        "      --creds USER[:PASS]   credentials for the registry\n"                                         \
        "      --tls-verify BOOL     require HTTPS and verify certificates (default true)\n"
enum { OPT_TLS_VERIFY = 0x1000, OPT_CERT_DIR, OPT_AUTHFILE, OPT_CREDS, OPT_REGISTRY_LAST };
#define REGISTRY_LONG_OPTIONS                                                                                \
        {"tls-verify", optional_argument, NULL, OPT_TLS_VERIFY},                                             \
            {"cert-dir", required_argument, NULL, OPT_CERT_DIR},                                             \
            {"authfile", required_argument, NULL, OPT_AUTHFILE},                                             \
        {                                                                                                    \
                "creds", required_argument, NULL, OPT_CREDS                                                  \
        }
/* Handles one of the registry options; returns 0, or -1 after printing a usage error. */
int registry_flags_parse(struct registry_flags *f, int opt, const char *arg);
void registry_flags_apply(const struct registry_flags *f, struct registry_opts *o);
void registry_flags_clear(struct registry_flags *f);
int parse_bool(const char *s, bool *out);

/* "4.52 MB" (decimal units, 3 significant digits), as podman prints sizes. */
char *human_size(uint64_t bytes, char *buf, size_t size);
/* "2 weeks ago" */
char *human_since(int64_t ns, char *buf, size_t size);
/* First 12 hex digits of a sha256 digest. */
const char *short_id(const char *digest, char buf[13]);
bool stdout_is_tty(void);
bool stderr_is_tty(void);

/* A text table with podman's column layout (tabwriter: min width 12, padding 2). */
struct table;
struct table *table_new(size_t n_cols);
void table_add(struct table *t, const char *const *cells);
void table_print(struct table *t, FILE *f);
void table_free(struct table *t);

/* Go-template subset: "{{.A.B}}", "{{json .X}}", "table ..." header, "\t" "\n" escapes. */
int format_template(const char *tmpl, json_object *obj, FILE *out, struct berr **err);
/* Header line of a "table ..." template: the field names. */
bool format_is_table(const char *tmpl);
void format_table_header(const char *tmpl, FILE *out);
