/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* NULL once libcurl is loaded, else why it could not be (see curl-dl.c). */
const char *curl_dl_error(void);
