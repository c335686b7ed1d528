/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/path.h"
#include "commands.h"

int cmd_spec(struct runtime_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'},
                                             {"rootless", no_argument, NULL, 'r'},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        _cleanup_free_ char *path = NULL;
        const char *bundle = ".";
        struct berr *err = NULL;
        bool rootless = false;
        json_object *spec;
        const char *txt;
        int c, r;

        while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
                if (c == 'b')
                        bundle = optarg;
                else if (c == 'r')
                        rootless = true;
                else
                        return usage(command_find("spec"), c == 'h' ? 0 : 1);
        }
        if (need_args("spec", argc - optind, 0, 0))
                return 1;
        path = path_join(bundle, "config.json");
        if (!path)
                return fail_msg("out of memory");
        spec = oci_spec_default(rootless);
        txt = json_to_string(spec, true);
        r = write_file_at(AT_FDCWD, path, txt, strlen(txt), O_CREAT | O_EXCL, 0666, &err);
        json_object_put(spec);
        if (r < 0) {
                if (err->code == EEXIST) {
                        berr_free(err);
                        return fail_msg("File %s exists. Remove it first", path);
                }
                return fail(err);
        }
        return 0;
}
