/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "basic/error.h"

/* Copies the content of the directory src into the empty directory dst
 * (owners, modes, times, xattrs, hard links, symlinks as links, device
 * nodes and fifos; sockets are skipped), then gives dst src's owner, mode
 * and times. Names are opened one component at a time without following
 * symlinks, so neither side can be redirected. Bounded by
 * VOLUME_COPY_DEPTH_MAX and VOLUME_COPY_ENTRIES_MAX. */
int volume_copy_tree(int src, int dst, struct berr **err);
