/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 0: messages for people, on stderr/stdout, and to the journal from units and
 * maintainer scripts. */
#pragma once
#include "util.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_NOTICE, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* verbosity: -1 quiet, 0 normal, 1 verbose. In json mode informational lines go to stderr so
 * that stdout carries exactly one JSON document. */
void log_setup(int verbosity, bool json);
void log_set_app(const char *app);
bool log_is_json(void);
/* The first error said in this run (NULL when none), for --json's error object. */
const char *log_first_error(void);
/* A stable name for the cause of the error that ends the run, where one of the service
 * model's causes fits (pyshare(8), "WHAT THE SERVICE REALLY GETS"; "python-mismatch"), for
 * --json's error object; NULL (the default) leaves the cause to the exit status. The string
 * must outlive the run (a literal). */
void log_set_error_cause(const char *cause);
const char *log_error_cause(void);

/* Who reads the hints: a person at a shell, a package's maintainer script (dpkg sets
 * DPKG_MAINTSCRIPT_NAME), or pyshare-app-hook, which says so with PYSHARE_CALLER=app-hook and
 * restarts the service itself (try-restart) when pyshare reports a change. Only the wording of
 * hints depends on it. */
enum log_context { LOG_CONTEXT_SHELL, LOG_CONTEXT_MAINTSCRIPT, LOG_CONTEXT_APP_HOOK };
enum log_context log_context(void);
void log_msg(enum log_level level, const char *fmt, ...) _printf_(2, 3);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Logs an error and hands r on, for the verbs' "say it once, return the error":
 *     return log_error_errno(r, "cannot open %s: %s", path, strerror(-r)); */
#define log_error_errno(r, ...)                                                                    \
        ({                                                                                         \
                int _r = (r);                                                                      \
                log_error(__VA_ARGS__);                                                            \
                _r;                                                                                \
        })
