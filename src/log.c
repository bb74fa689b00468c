/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <syslog.h>
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

static int verbosity;
static bool json_mode;
static bool to_journal, stderr_is_journal;
static char app_field[96];
static char first_error[4096];
static const char *error_cause;

/* JOURNAL_STREAM names the device:inode of the journal stream that systemd connected to our
 * stderr: then the journal already gets stderr, and we send structured entries instead. */
static bool stderr_is_journal_stream(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(int v, bool json)
{
        verbosity = v;
        json_mode = json;
        stderr_is_journal = stderr_is_journal_stream();
        to_journal = stderr_is_journal || getenv("DPKG_MAINTSCRIPT_NAME") || getenv("INVOCATION_ID");
}

void log_set_app(const char *app) { snprintf(app_field, sizeof(app_field), "PYSHARE_APP=%s", app ? app : ""); }

bool log_is_json(void) { return json_mode; }

const char *log_first_error(void) { return first_error[0] ? first_error : NULL; }

void log_set_error_cause(const char *cause) { error_cause = cause; }

const char *log_error_cause(void) { return error_cause; }

enum log_context log_context(void)
{
        const char *caller = getenv("PYSHARE_CALLER");
        if (caller && strcmp(caller, "app-hook") == 0)
                return LOG_CONTEXT_APP_HOOK;
        return getenv("DPKG_MAINTSCRIPT_NAME") ? LOG_CONTEXT_MAINTSCRIPT : LOG_CONTEXT_SHELL;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
        static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};
        if (level == LOG_LEVEL_DEBUG && verbosity < 1)
                return;
        if (level >= LOG_LEVEL_INFO && verbosity < 0)
                return;

        char msg[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        if (level == LOG_LEVEL_ERROR && !first_error[0])
                snprintf(first_error, sizeof(first_error), "%s", msg);
        if (to_journal && level <= LOG_LEVEL_INFO)
                sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", prio[level],
                                "SYSLOG_IDENTIFIER=pyshare", app_field[0] ? app_field : "PYSHARE_APP=",
                                NULL);
        if (stderr_is_journal && level <= LOG_LEVEL_INFO)
                return;

        FILE *out = (level <= LOG_LEVEL_WARNING || json_mode) ? stderr : stdout;
        const char *tag = level == LOG_LEVEL_ERROR ? "error: " : level == LOG_LEVEL_WARNING ? "warning: " : "";
        if (level <= LOG_LEVEL_WARNING)
                fprintf(out, "pyshare: %s%s\n", tag, msg);
        else
                fprintf(out, "%s\n", msg);
        fflush(out);
}
