/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 4.1: the service model (service.h) applied to one app — what keeps the app's code from
 * importing in its service now or at the service's next start that can be seen without running
 * Python, each with a stable cause and the fix; the environments the probe imports with; the
 * users the app's WSGI daemon process groups run as. Shared by status and the probe. */
#pragma once
#include "app.h"
#include "service.h"

struct app_finding {
        const char *cause; /* SERVICE_CAUSE_* */
        char *text;        /* a sentence that names the file, line or user, and the fix */
        bool now;          /* only the running service has it: a restart fixes it */
};

struct app_judgement {
        bool have_model;
        struct service_model m;
        char **next_env;     /* the next start's environment, KEY=VALUE */
        char **now_env;      /* that of a process that runs the code; NULL when none is seen */
        bool now_differs;    /* now_env's Python variables differ from next_env's */
        char **daemon_users; /* users other than the app's that run its WSGI daemon groups */
        char **daemon_where; /* for each: "WSGIDaemonProcess NAME (FILE:LINE)" */
        bool *daemon_running; /* for each: a process of that group runs now */
        bool breaks_after_reload; /* the files lose the app's PYTHONPATH: the pending daemon-reload
                                   * breaks a next start that works as systemd loaded it */
        char *identity_now; /* the restart-needed text when a process that runs the code has an
                             * identity that cannot read the venv while the configured one can */
        struct app_finding *f;
        size_t n;
        char **notes;
};

/* Builds the model of the app's service (from the manager where systemd runs and x->root is
 * NULL, else from files; the processes only on the running system) and judges it with the
 * app's PYTHONPATH (NULL when the venv is not ready: only what does not depend on it). */
void app_judge(const struct ctx *x, const struct app *a, char *const *pythonpath, struct app_judgement *ret);
void app_judgement_free(struct app_judgement *j);
/* Who the service runs as now (Apache's run configuration, or the unit's User= as systemd has
 * it), without messages: NULL when it cannot be told. */
char *app_service_user_now(int rootfd, const char *unit);
/* The identity (uid, gid, groups of /proc/PID/status) of the running processes that run the
 * code, against what the configuration gives them (Apache's User/Group, each
 * WSGIDaemonProcess's user=, group=, supplementary-groups=, a unit's User=, Group=,
 * SupplementaryGroups=), users and groups looked up as ids_root(x) does. app_judge calls it on
 * the running system; want is the app's site-packages (NULL: only notes). */
void app_judge_identity(const struct ctx *x, const struct app *a, const char *want, struct app_judgement *j);
void app_judgement_add(struct app_judgement *j, const char *cause, bool now, const char *fmt, ...) _printf_(4, 5);
/* The first finding of the next start (now false) or of the running service (now true). */
const struct app_finding *app_judgement_first(const struct app_judgement *j, bool now);
