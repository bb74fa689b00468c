/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 3: the probe — a forked child that drops to the service user, gets the service's
 * environment, embeds Python (or runs the venv's interpreter) and imports modules; results
 * come back over a pipe of their own, within a deadline, with nothing left running. */
#pragma once
#include "users.h"
#include "util.h"

struct probe_module {
        char *name;
        bool ok;
        char *version;    /* __version__, or NULL */
        char *file;       /* __file__, or NULL */
        bool namespace_pkg;
        char *error_type; /* exception type name, or NULL */
        char *error;      /* exception message, or pyshare's verdict */
};

struct probe_result {
        char *python_version; /* as the child's Python reports it */
        char *executable;
        char *sys_path;
        struct probe_module *modules;
        size_t n_modules;
        bool completed; /* the child reported the end of its run */
        bool timed_out;
        int exit_status; /* as run_command reports it */
        char *failure;   /* the child could not even start Python (privilege drop, exec), or NULL */
        char *output;    /* what the child printed (capped) */
        size_t output_bytes; /* how much it printed in all */
        unsigned leftover_killed; /* processes the imports left running when they ended, killed
                                   * with the probe's PID namespace (forked probe; a unit's
                                   * cgroup is killed by systemd without a count) */
        bool sandboxed;           /* ran as a transient unit with the service's sandbox */
        char **sandbox;           /* the sandbox settings copied, "ProtectHome=yes", ... */
        char *unit_error;         /* why the transient unit could not be started, or NULL */
};

struct probe_request {
        const struct ps_user *user;
        gid_t forbidden_gid;   /* the deploy group: must not be left */
        char *const *modules;
        char *const *env;      /* the complete environment, KEY=VALUE */
        bool env_complete;     /* probe_run_unit: env is all of it (the service model's); else
                                * the service's Environment= and EnvironmentFile= follow it */
        const char *interpreter; /* NULL: embedded libpython; else the venv's python */
        int timeout_ms;
        unsigned long long as_limit; /* RLIMIT_AS for the child, 0 for none */
        bool without_sandbox;  /* probe_run_unit: a unit with the service's environment and user
                                * but none of its sandbox settings (the diagnostic rerun) */
        /* The caller's own work, done while the import runs (after the child or unit started,
         * before its end is awaited), so that its time hides behind the import's; may be
         * called again when a failed start is retried. */
        void (*meanwhile)(void *userdata);
        void *meanwhile_data;
};

#define PROBE_OUTPUT_MAX (16 * 1024)
#define PROBE_RESULT_MAX (1024 * 1024)

/* Forked, contained in a PID namespace of its own (contain.h): nothing it starts outlives it. */
int probe_run(const struct probe_request *req, struct probe_result *ret);
/* The same as a transient unit with the sandbox, User=, Environment= and EnvironmentFile= of
 * service (systemd must be running): what the service would really see. */
int probe_run_unit(const struct probe_request *req, const char *service, struct probe_result *ret);
/* The transient unit's process: `pyshare __probe-child [--interpreter=PATH] --timeout=SEC
 * --as-limit=BYTES --uid=UID --gid=GID --forbidden-gid=GID -- MODULE...`, started by systemd
 * as the service user with the result pipe as stdin; it verifies those ids (privdrop_verify)
 * before it imports anything. */
int probe_child_main(int argc, char **argv);
void probe_result_free(struct probe_result *r);
#define _cleanup_probe_result_ _cleanup_(probe_result_free)
