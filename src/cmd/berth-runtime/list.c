/* SPDX-License-Identifier: Apache-2.0 */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/strv.h"
#include "basic/timeutil.h"
#include "commands.h"

int cmd_list(struct runtime_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        _cleanup_strv_free_ char **ids = NULL;
        struct berr *err = NULL;
        bool quiet = false, json = false;
        json_object *arr = NULL;
        int c;

        while ((c = getopt_long(argc, argv, "f:qh", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        if (streq(optarg, "json"))
                                json = true;
                        else if (!streq(optarg, "table"))
                                return fail_msg("invalid format option `%s`", optarg);
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        return usage(command_find("list"), c == 'h' ? 0 : 1);
                }
        }
        if (container_list_ids(ctx, &ids, &err) < 0)
                return fail(err);
        if (json)
                arr = json_object_new_array();
        else if (!quiet)
                printf("%-12s%-8s%-10s%-40s%-32s%s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
        STRV_FOREACH (id, ids) {
                _cleanup_container_ struct container *ct = NULL;
                enum oci_status st;
                struct stat sb;
                char ts[64];
                const char *owner = "";
                struct passwd *pw;
                if (container_load(ctx, *id, &ct, NULL) < 0)
                        continue;
                if (quiet) {
                        printf("%s\n", *id);
                        continue;
                }
                st = container_status(ct);
                if (fstat(ct->dirfd, &sb) == 0 && (pw = getpwuid(sb.st_uid)))
                        owner = pw->pw_name;
                if (json) {
                        json_object *o = container_state_json(ct, st, true);
                        json_object_object_add(o, "owner", json_object_new_string(owner));
                        json_object_array_add(arr, o);
                        continue;
                }
                printf("%-12s%-8d%-10s%-40s%-32s%s\n", *id, st == OCI_STATUS_STOPPED ? 0 : ct->pid,
                       oci_status_name(st), ct->bundle, time_format_rfc3339(ct->created_ns, ts, sizeof(ts)), owner);
        }
        if (json) {
                printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
                                                                          JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(arr);
        }
        return 0;
}
