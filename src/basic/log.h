/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include "macro.h"

/*
 * Process-wide log sink, configured by the command layer. Libraries may log
 * debug details here; user-facing errors travel as struct berr instead.
 * The json format matches what containerd's runc shim parses:
 * {"level":"error","msg":"...","time":"..."} one per line.
 */
enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* fd -1 means stderr. Takes ownership of fd. */
void log_setup(int fd, enum log_format format, enum log_level max_level);
int log_parse_level(const char *s, enum log_level *out);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) _printf_(2, 3);
/* The sink's fd (for a child that must log before exec), or -1 for stderr. */
int log_fd(void);

#define log_debug(...) (log_enabled(LOG_LEVEL_DEBUG) ? log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__) : (void)0)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
