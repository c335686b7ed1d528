/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The flags `berth run` and `berth create` share (docker's spellings). */

#include "berth.h"
#include "engine/lifecycle.h"

struct run_flags {
        struct engine_create_opts co;
        bool detach;
        bool sig_proxy;
        const char *detach_keys;
        struct registry_flags rf;
        struct pull_opts po;
        /* Lists the options point into. */
        char **env, **env_files, **group_add, **add_hosts, **dns, **dns_search, **dns_options, **cap_add,
                **cap_drop, **security_opts, **tmpfs, **ulimits, **devices, **sysctls, **labels, **annotations,
                **log_opts, **publish, **expose;
        struct engine_mount *mounts;
        size_t n_mounts;
};

/* Parses argv up to the image; *image_index gets its index. Returns 0, or an exit code
 * (help printed: -1 meaning exit 0; usage error: EXIT_BERTH after printing it). */
int run_flags_parse(int argc, char **argv, bool run, struct run_flags *f, int *image_index);
void run_flags_done(struct run_flags *f);
/* The pull progress lines podman prints to stderr. */
void run_pull_progress(void *userdata, const struct pull_event *ev);
