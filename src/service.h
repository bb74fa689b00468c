/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 3: the service model. What the processes that run a service's Python really get, read
 * from the server and never from pyshare's own files: the environment of the running processes
 * (/proc/PID/environ) and of the next start (the unit as systemd loaded it, or its files where
 * systemd does not run; then Debian's envvars as apache2ctl applies it), their identity, the
 * interpreter settings of the enabled Apache configuration, and what is wrong with it that can
 * be seen without running Python. It reads; it never runs anything. */
#pragma once
#include "apache.h"
#include "util.h"

/* One variable of an environment, with the file and line that set it last and, when that
 * assignment replaced an earlier value rather than extending it, where the earlier one was. */
struct service_var {
        char *name, *value, *where;
        char *replaced_where, *replaced_value;
};

struct service_env {
        struct service_var *v;
        size_t n;
};
const struct service_var *service_env_get(const struct service_env *e, const char *name);

/* A process of the service that runs (or may run) Python code. */
struct service_proc {
        pid_t pid;
        char *role;    /* "main", "worker", "wsgi:NAME" (a mod_wsgi daemon process), "helper" (a
                        * program Apache started: a piped logger), "child" (of another unit) */
        char *cmdline; /* argv joined by spaces */
        uid_t uid;     /* effective */
        gid_t gid;
        gid_t *groups;
        size_t n_groups;
        char **env; /* NULL when it could not be read */
};

/* Something the model sees that breaks or changes the service's imports; cause is one of the
 * stable identifiers below, text a sentence naming the files, lines and users. */
struct service_finding {
        const char *cause;
        char *text;
};

#define SERVICE_CAUSE_RELOAD "reload-needed"
#define SERVICE_CAUSE_RESTART "restart-needed"
#define SERVICE_CAUSE_OVERRIDDEN "pythonpath-overridden"
#define SERVICE_CAUSE_DAEMON_USER "daemon-user"
#define SERVICE_CAUSE_UNREADABLE "unreadable"
#define SERVICE_CAUSE_UNPARSED "unparsed"
#define SERVICE_CAUSE_IGNORED "ignored-line"
#define SERVICE_CAUSE_CONFLICT "conflict"
#define SERVICE_CAUSE_DROPIN_MISSING "dropin-missing"
/* Judged with the app (appmodel.c) or by the probe's imports. */
#define SERVICE_CAUSE_ENVFILE "envfile-out-of-date"
#define SERVICE_CAUSE_SANDBOX "sandbox"
#define SERVICE_CAUSE_PYTHON_MISMATCH "python-mismatch"
#define SERVICE_CAUSE_IMPORT "import-error"
#define SERVICE_CAUSE_DAEMON_CONFIG "daemon-config" /* a daemon-wired app that Apache would not run from its venv */

struct service_model {
        char *unit;
        bool from_bus; /* the next start as the manager loaded it; else from the unit's files */
        bool running, need_reload;
        pid_t main_pid;
        time_t started; /* when the main process started (0: not known) */
        char **unit_files; /* the unit file and its drop-ins, in the order they apply */
        char *user, *group;
        char **supplementary_groups;
        bool dynamic_user;
        char **exec_start;
        char **environment_files; /* "-/path" when a missing file is ignored */
        struct service_env next;  /* the environment of the next start, where each was set */
        bool apache;
        enum apache_layout layout;
        struct apache_config conf;
        bool envvars_read;
        struct apache_envvars envvars;
        char *run_user, *run_group; /* who Apache's children run as (User/Group) */
        char *wsgi_libpython; /* the libpython mod_wsgi.so links ("libpython3.11.so.1.0"), or NULL */
        struct service_proc *procs;
        size_t n_procs;
        struct service_finding *findings;
        size_t n_findings;
};

enum {
        SERVICE_FILES_ONLY = 1 << 0, /* do not ask the manager (an image, a chroot, no systemd) */
        SERVICE_NO_PROCESSES = 1 << 1, /* do not look at running processes (an image) */
};

/* Builds the model of unit below rootfd. -PS_E_NOTFOUND when the unit does not exist. */
int service_model_build(int rootfd, const char *unit, unsigned flags, struct service_model *ret);
void service_model_free(struct service_model *m);

/* The running processes of m's main process (m->main_pid, or Apache's PID file below rootfd):
 * it and its children, as procfd (an fd of /proc, or a test's tree shaped like it) shows
 * them; sets m->running when the main process is there. */
void service_find_processes(int procfd, int rootfd, struct service_model *m);

/* Whether the next start loads path as an EnvironmentFile (with or without "-"). */
bool service_loads_envfile(const struct service_model *m, const char *path);
/* The processes that run Python: Apache's children (workers and mod_wsgi daemons) or, when
 * it has none, its main process; for other units every process. */
bool service_proc_runs_code(const struct service_model *m, const struct service_proc *p);
/* The user a WSGI daemon process group runs as: its user=, else Apache's User. */
const char *service_daemon_user(const struct service_model *m, const struct apache_daemon *d);

