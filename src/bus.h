/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: systemd's manager over sd-bus. */
#pragma once
#include "util.h"

/* Whether systemd runs this system (sd_booted). */
bool bus_systemd_running(void);
int bus_daemon_reload(void);
/* RestartUnit(unit, "replace") and wait (up to timeout_ms) for its job's JobRemoved; the job
 * result ("done", "failed", ...) in *ret_result. */
int bus_restart_unit(const char *unit, int timeout_ms, char **ret_result);
/* LoadState, User= and DynamicUser= of a service as the manager has them. *ret_found false
 * when LoadState is not-found (or masked). */
int bus_unit_user(const char *unit, bool *ret_found, char **ret_user, bool *ret_dynamic);
/* Group= and SupplementaryGroups= of a service as the manager has them (NULL when none). */
int bus_unit_groups(const char *unit, char ***ret_groups);
/* Whether the unit is active and its NeedDaemonReload flag. */
int bus_unit_state(const char *unit, bool *ret_active, bool *ret_need_reload);
/* When the service's main process started (CLOCK_REALTIME, microseconds; 0 if it never did). */
int bus_unit_started_usec(const char *unit, uint64_t *ret);

/* Code from a venv (the probe, pip) as a transient service unit: systemd kills its whole
 * cgroup when it ends, whatever its processes did. */
struct bus_transient_req {
        const char *unit_prefix; /* the unit is PREFIX-PID-STAMP.service */
        const char *description;
        const char *copy_from; /* the service whose environment (and sandbox) is copied, or NULL */
        bool copy_sandbox;     /* false: its environment and User= only (a diagnostic rerun) */
        const char *user;
        const char *group;     /* Group= (the only group besides those the user is listed in), or NULL */
        bool private_tmp;      /* a fresh, empty /tmp (TemporaryFileSystem=) that no other unit sees */
        mode_t umask;          /* UMask=; 0: systemd's default */
        bool keep_status;      /* a failed unit stays until bus_job_free, for bus_job_exit_status */
        char *const *argv;     /* ExecStart=, argv[0] absolute */
        char *const *env;      /* Environment= (before the service's own) */
        bool env_complete;     /* env is the whole environment: copy none of the service's */
        int stdin_fd;          /* -1: /dev/null */
        int stdout_fd, stderr_fd;
        int timeout_ms;
};

typedef struct bus_job bus_job;

/* Starts the unit (StartTransientUnit, mode "fail"); *ret_sandbox lists the copied sandbox
 * settings that differ from the defaults ("ProtectHome=yes", ...). */
int bus_transient_start(const struct bus_transient_req *req, bus_job **ret, char ***ret_sandbox);
/* For poll(): the bus fd, its events and the bus's own timeout (ms, -1 none). */
int bus_job_poll_fd(bus_job *j, short *ret_events, int *ret_timeout_ms);
/* Processes what the bus has; *ret_done once the job is removed (with its result) and the unit
 * is no longer active (systemd has killed what was left in its cgroup). */
int bus_job_process(bus_job *j, bool *ret_done, const char **ret_result);
/* After the end of a unit started with keep_status: how its command ended, as a waitpid()
 * status, or -ETIMEDOUT when systemd stopped it at its timeout. */
int bus_job_exit_status(bus_job *j, int *ret_status);
/* Stops the unit: systemd kills its whole cgroup. */
int bus_job_stop(bus_job *j);
void bus_job_free(bus_job *j);

/* StartUnit/StopUnit with mode "replace", without waiting for the job. */
int bus_start_unit(const char *unit);
int bus_stop_unit(const char *unit);
/* Stops each loaded unit matching the glob pattern that is neither inactive nor failed and that
 * want picks, waits (up to timeout_ms) until each is, and resets it; *ret_stopped names them. */
int bus_stop_units_matching(const char *pattern, bool (*want)(const char *unit), int timeout_ms, char ***ret_stopped);

/* What the manager has loaded for a service: the environment and identity its next start
 * gets (as loaded, which differs from the files while a daemon-reload is pending). */
struct bus_unit_exec {
        bool found; /* LoadState is loaded */
        bool active, need_reload;
        uint32_t main_pid;
        char *fragment_path;
        char **dropin_paths;
        char **environment;       /* Environment=, "KEY=VALUE" in order */
        char **unset_environment; /* UnsetEnvironment=, "KEY" or "KEY=VALUE" */
        char **environment_files; /* EnvironmentFile=, "-/path" when a missing file is ignored */
        char *user, *group;
        char **supplementary_groups;
        bool dynamic_user;
};
int bus_unit_exec(const char *unit, struct bus_unit_exec *ret);
void bus_unit_exec_free(struct bus_unit_exec *e);
