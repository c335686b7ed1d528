/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layer unpacker (decompression, tar reader, extraction) on arbitrary bytes:
 * every input either unpacks or fails with an error, never crashes, leaks or
 * writes outside its temporary destination. The compression is sniffed; the
 * input length's parity picks overlay or flattening whiteouts.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "image/unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char top[] = "/tmp/berth-fuzz-tar-XXXXXX";
        struct unpack_opts o = {
                .overlay_whiteouts = size & 1,
                .max_entries = 4096,
                .max_uncompressed = 64 << 20,
        };
        struct layer_unpacker *u = NULL;
        struct berr *err = NULL;
        int dfd;

        if (!mkdtemp(top))
                return 0;
        dfd = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0 && layer_unpacker_new(dfd, layer_compression_sniff(data, size), &o, &u, &err) == 0) {
                /* Two uneven chunks exercise the resumable state machine. */
                size_t half = size / 3;
                struct unpack_result res;
                if (layer_unpacker_write(u, data, half, &err) == 0 &&
                    layer_unpacker_write(u, data + half, size - half, &err) == 0)
                        layer_unpacker_finish(u, &res, &err);
        }
        layer_unpacker_free(u);
        berr_free(err);
        if (dfd >= 0)
                close(dfd);
        rm_rf_at(AT_FDCWD, top, NULL);
        return 0;
}
