/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bus.h"

#include <systemd/sd-bus.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#define DEST "org.freedesktop.systemd1"
#define PATH "/org/freedesktop/systemd1"
#define MANAGER "org.freedesktop.systemd1.Manager"

static void bus_unrefp(sd_bus **b) { sd_bus_flush_close_unref(*b); }
static void msg_unrefp(sd_bus_message **m) { sd_bus_message_unref(*m); }
#define _cleanup_bus_ _cleanup_(bus_unrefp)
#define _cleanup_msg_ _cleanup_(msg_unrefp)

bool bus_systemd_running(void) { return sd_booted() > 0; }

int bus_daemon_reload(void)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        /* Reload can take longer than the default 25 s on a busy system. */
        r = sd_bus_call_method(bus, DEST, PATH, MANAGER, "Reload", &err, NULL, "");
        sd_bus_error_free(&err);
        return r < 0 ? r : 0;
}

static int unit_path(sd_bus *bus, const char *unit, char **ret)
{
        sd_bus_error err = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(bus, DEST, PATH, MANAGER, "LoadUnit", &err, &reply, "s", unit);
        sd_bus_error_free(&err);
        if (r < 0)
                return r;
        const char *p;
        r = sd_bus_message_read(reply, "o", &p);
        if (r < 0)
                return r;
        *ret = xstrdup(p);
        return 0;
}

static int get_string(sd_bus *bus, const char *path, const char *iface, const char *prop, char **ret)
{
        sd_bus_error err = SD_BUS_ERROR_NULL;
        char *s = NULL;
        int r = sd_bus_get_property_string(bus, DEST, path, iface, prop, &err, &s);
        sd_bus_error_free(&err);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

static int get_bool(sd_bus *bus, const char *path, const char *iface, const char *prop, bool *ret)
{
        sd_bus_error err = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        int r = sd_bus_get_property(bus, DEST, path, iface, prop, &err, &reply, "b");
        sd_bus_error_free(&err);
        if (r < 0)
                return r;
        int b;
        r = sd_bus_message_read(reply, "b", &b);
        if (r < 0)
                return r;
        *ret = b;
        return 0;
}

/* The object path of unit, and whether systemd has it loaded. */
static int unit_lookup(sd_bus *bus, const char *unit, char **ret_path, bool *ret_loaded)
{
        _cleanup_free_ char *path = NULL, *load = NULL;
        int r;
        if ((r = unit_path(bus, unit, &path)) < 0 ||
            (r = get_string(bus, path, "org.freedesktop.systemd1.Unit", "LoadState", &load)) < 0)
                return r;
        *ret_loaded = strcmp(load, "loaded") == 0;
        *ret_path = TAKE_PTR(path);
        return 0;
}

int bus_unit_user(const char *unit, bool *ret_found, char **ret_user, bool *ret_dynamic)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = NULL, *user = NULL;
        if ((r = unit_lookup(bus, unit, &path, ret_found)) < 0 || !*ret_found)
                return r;
        if ((r = get_string(bus, path, "org.freedesktop.systemd1.Service", "User", &user)) < 0 ||
            (r = get_bool(bus, path, "org.freedesktop.systemd1.Service", "DynamicUser", ret_dynamic)) < 0)
                return r;
        *ret_user = *user ? TAKE_PTR(user) : NULL;
        return 0;
}

int bus_unit_groups(const char *unit, char ***ret_groups)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = NULL, *group = NULL;
        char **supplementary = NULL;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        if ((r = unit_path(bus, unit, &path)) < 0 ||
            (r = get_string(bus, path, "org.freedesktop.systemd1.Service", "Group", &group)) < 0)
                return r;
        r = sd_bus_get_property_strv(bus, DEST, path, "org.freedesktop.systemd1.Service", "SupplementaryGroups", &err,
                                     &supplementary);
        sd_bus_error_free(&err);
        if (r < 0)
                return r;
        /* sd-bus allocates the list with malloc: it is a strv like ours. */
        if (*group)
                strv_push(&supplementary, group);
        *ret_groups = supplementary;
        return 0;
}

int bus_unit_state(const char *unit, bool *ret_active, bool *ret_need_reload)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = NULL, *active = NULL;
        if ((r = unit_path(bus, unit, &path)) < 0 ||
            (r = get_string(bus, path, "org.freedesktop.systemd1.Unit", "ActiveState", &active)) < 0 ||
            (r = get_bool(bus, path, "org.freedesktop.systemd1.Unit", "NeedDaemonReload", ret_need_reload)) < 0)
                return r;
        *ret_active = strcmp(active, "active") == 0 || strcmp(active, "reloading") == 0 ||
                      strcmp(active, "activating") == 0;
        return 0;
}

int bus_unit_started_usec(const char *unit, uint64_t *ret)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = NULL;
        if ((r = unit_path(bus, unit, &path)) < 0)
                return r;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        r = sd_bus_get_property(bus, DEST, path, "org.freedesktop.systemd1.Service", "ExecMainStartTimestamp", &err,
                                &reply, "t");
        sd_bus_error_free(&err);
        if (r < 0)
                return r;
        return sd_bus_message_read(reply, "t", ret) < 0 ? -EIO : 0;
}

struct job_wait {
        const char *job;
        char *result;
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct job_wait *w = userdata;
        uint32_t id;
        const char *path, *unit, *result;
        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (w->job && strcmp(path, w->job) == 0 && !w->result)
                w->result = xstrdup(result);
        return 0;
}

int bus_restart_unit(const char *unit, int timeout_ms, char **ret_result)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        struct job_wait w = {0};
        /* Subscribe before asking, so the JobRemoved signal cannot slip past. */
        r = sd_bus_match_signal(bus, NULL, DEST, PATH, MANAGER, "JobRemoved", on_job_removed, &w);
        if (r < 0)
                return r;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        r = sd_bus_call_method(bus, DEST, PATH, MANAGER, "Subscribe", &err, NULL, "");
        sd_bus_error_free(&err);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, DEST, PATH, MANAGER, "RestartUnit", &err, &reply, "ss", unit, "replace");
        sd_bus_error_free(&err);
        if (r < 0)
                return r;
        const char *job;
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return r;
        _cleanup_free_ char *job_copy = xstrdup(job);
        w.job = job_copy;
        long long deadline = now_ms() + timeout_ms;
        while (!w.result) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                long long left = deadline - now_ms();
                if (left <= 0) {
                        r = -ETIMEDOUT;
                        break;
                }
                r = sd_bus_wait(bus, (uint64_t)left * 1000);
                if (r < 0)
                        break;
        }
        if (!w.result)
                return r < 0 ? r : -EIO;
        *ret_result = w.result;
        return 0;
}

/* ---- transient probe units ---------------------------------------------------------------- */

struct bus_job {
        sd_bus *bus;
        char *unit;
        char *job;
        char *result;
        bool settled;     /* the job is removed and the unit no longer active */
        bool keep_status; /* a failed unit waits for us: reset it at the end */
};

/* The sandbox settings of systemd.exec(5) that change what a service can see or do. They are
 * copied as they are, with the type the manager gives them. */
static const char *const sandbox_props[] = {
        "ProtectHome", "ProtectSystem", "PrivateTmp", "PrivateDevices", "PrivateNetwork", "PrivateUsers",
        "PrivateMounts", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
        "ProtectControlGroups", "ProtectClock", "ProtectHostname", "ProtectProc", "ProcSubset",
        "InaccessiblePaths", "ReadOnlyPaths", "ReadWritePaths", "ExecPaths", "NoExecPaths",
        "TemporaryFileSystem", "BindPaths", "BindReadOnlyPaths", "MemoryDenyWriteExecute",
        "NoNewPrivileges", "RestrictAddressFamilies", "RestrictNamespaces", "LockPersonality",
        "RestrictRealtime", "RestrictSUIDSGID", "SystemCallFilter", "SystemCallArchitectures",
        "CapabilityBoundingSet", "UMask", "SupplementaryGroups",
};

/* "ProtectHome=yes" for a setting that differs from the default, else NULL. */
static char *describe_setting(const char *name, sd_bus_message *v)
{
        const char *contents = NULL;
        char type;
        if (sd_bus_message_peek_type(v, &type, &contents) < 0 || type != 'v' || !contents)
                return NULL;
        if (sd_bus_message_enter_container(v, 'v', contents) < 0)
                return NULL;
        char *out = NULL;
        if (strcmp(contents, "b") == 0) {
                int b;
                if (sd_bus_message_read(v, "b", &b) >= 0 && b)
                        out = xasprintf("%s=yes", name);
        } else if (strcmp(contents, "s") == 0) {
                const char *s;
                if (sd_bus_message_read(v, "s", &s) >= 0 && *s && strcmp(s, "no") != 0 && strcmp(s, "default") != 0 &&
                    strcmp(s, "all") != 0)
                        out = xasprintf("%s=%s", name, s);
        } else if (strcmp(contents, "as") == 0) {
                char **l = NULL;
                if (sd_bus_message_read_strv(v, &l) >= 0 && l && l[0]) {
                        _cleanup_free_ char *j = strv_join(l, " ");
                        out = xasprintf("%s=%s", name, j);
                }
                strv_free(l);
        } else if (strcmp(contents, "(bas)") == 0) {
                int allow;
                char **l = NULL;
                if (sd_bus_message_enter_container(v, 'r', "bas") >= 0 && sd_bus_message_read(v, "b", &allow) >= 0 &&
                    sd_bus_message_read_strv(v, &l) >= 0 && l && l[0])
                        out = xasprintf("%s=%s%s%s", name, allow ? "" : "~", l[0], l[1] ? " ..." : "");
                strv_free(l);
        } else if (strcmp(contents, "a(ss)") == 0) {
                if (sd_bus_message_enter_container(v, 'a', "(ss)") >= 0) {
                        const char *a, *b;
                        if (sd_bus_message_read(v, "(ss)", &a, &b) > 0)
                                out = xasprintf("%s=%s", name, a);
                }
        }
        return out;
}

static int append_copied(sd_bus *bus, const char *unit_path, sd_bus_message *m, const char *iface, const char *name,
                         char ***sandbox)
{
        sd_bus_error err = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(bus, DEST, unit_path, "org.freedesktop.DBus.Properties", "Get", &err, &reply, "ss",
                                   iface, name);
        sd_bus_error_free(&err);
        if (r < 0)
                return 0; /* not known to this systemd: nothing to copy */
        if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0 || (r = sd_bus_message_append(m, "s", name)) < 0 ||
            (r = sd_bus_message_copy(m, reply, true)) < 0 || (r = sd_bus_message_close_container(m)) < 0)
                return r;
        if (sandbox && sd_bus_message_rewind(reply, true) >= 0) {
                char *d = describe_setting(name, reply);
                if (d)
                        strv_consume(sandbox, d);
        }
        return 0;
}

static int on_transient_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        bus_job *j = userdata;
        uint32_t id;
        const char *path, *unit, *result;
        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (j->job && strcmp(path, j->job) == 0 && !j->result)
                j->result = xstrdup(result);
        return 0;
}

void bus_job_free(bus_job *j)
{
        if (!j)
                return;
        if (j->keep_status) {
                sd_bus_error err = SD_BUS_ERROR_NULL;
                (void)sd_bus_call_method(j->bus, DEST, PATH, MANAGER, "ResetFailedUnit", &err, NULL, "s", j->unit);
                sd_bus_error_free(&err);
        }
        sd_bus_flush_close_unref(j->bus);
        free(j->unit);
        free(j->job);
        free(j->result);
        free(j);
}

/* ExecStart=: a(sasb) */
static int append_exec_start(sd_bus_message *m, char *const *argv)
{
        int r;
        if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0 || (r = sd_bus_message_append(m, "s", "ExecStart")) < 0 ||
            (r = sd_bus_message_open_container(m, 'v', "a(sasb)")) < 0 ||
            (r = sd_bus_message_open_container(m, 'a', "(sasb)")) < 0 ||
            (r = sd_bus_message_open_container(m, 'r', "sasb")) < 0 || (r = sd_bus_message_append(m, "s", argv[0])) < 0 ||
            (r = sd_bus_message_append_strv(m, (char **)argv)) < 0 || (r = sd_bus_message_append(m, "b", 0)) < 0)
                return r;
        for (int i = 0; i < 4; i++)
                if ((r = sd_bus_message_close_container(m)) < 0)
                        return r;
        return 0;
}

/* The environment: ours, then (for a copy) the service's Environment= and EnvironmentFile= as
 * the manager has loaded them, which its next start gets. */
static int append_environment(sd_bus *bus, const char *svc_path, sd_bus_message *m, char *const *env, bool complete)
{
        int r;
        if (complete)
                svc_path = NULL; /* env is the whole environment: none of the service's is copied */
        if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0 || (r = sd_bus_message_append(m, "s", "Environment")) < 0 ||
            (r = sd_bus_message_open_container(m, 'v', "as")) < 0 || (r = sd_bus_message_open_container(m, 'a', "s")) < 0)
                return r;
        for (size_t i = 0; env && env[i]; i++)
                if ((r = sd_bus_message_append(m, "s", env[i])) < 0)
                        return r;
        if (svc_path) {
                char **unit_env = NULL;
                sd_bus_error e2 = SD_BUS_ERROR_NULL;
                if (sd_bus_get_property_strv(bus, DEST, svc_path, "org.freedesktop.systemd1.Service", "Environment", &e2,
                                             &unit_env) >= 0)
                        for (size_t i = 0; unit_env && unit_env[i]; i++)
                                sd_bus_message_append(m, "s", unit_env[i]);
                strv_free(unit_env);
                sd_bus_error_free(&e2);
        }
        if ((r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
            (r = sd_bus_message_close_container(m)) < 0)
                return r;
        return svc_path ? append_copied(bus, svc_path, m, "org.freedesktop.systemd1.Service", "EnvironmentFiles", NULL) : 0;
}

/* What every transient unit of ours has, and what the request adds. */
static int append_own_props(sd_bus_message *m, const struct bus_transient_req *req)
{
        uint64_t timeout_us = (uint64_t)req->timeout_ms * 1000;
        int r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)", "Description", "s", req->description, "Type",
                                      "s", "oneshot", "User", "s", req->user, "TimeoutStartUSec", "t", timeout_us,
                                      "KillSignal", "i", 9, "CollectMode", "s",
                                      req->keep_status ? "inactive" : "inactive-or-failed", "WorkingDirectory", "s", "/",
                                      "RemainAfterExit", "b", 0);
        if (r >= 0 && req->group)
                r = sd_bus_message_append(m, "(sv)", "Group", "s", req->group);
        if (r >= 0 && req->umask)
                r = sd_bus_message_append(m, "(sv)", "UMask", "u", (uint32_t)req->umask);
        if (r >= 0 && req->private_tmp)
                r = sd_bus_message_append(m, "(sv)", "TemporaryFileSystem", "a(ss)", 1, "/tmp", "mode=1777,nosuid,nodev");
        if (r >= 0 && req->stdin_fd >= 0)
                r = sd_bus_message_append(m, "(sv)", "StandardInputFileDescriptor", "h", req->stdin_fd);
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)", "StandardOutputFileDescriptor", "h", req->stdout_fd,
                                          "StandardErrorFileDescriptor", "h", req->stderr_fd);
        return r;
}

int bus_transient_start(const struct bus_transient_req *req, bus_job **ret, char ***ret_sandbox)
{
        bus_job *j = xcalloc(1, sizeof(*j));
        char **sandbox = NULL;
        _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_free_ char *svc_path = NULL;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int r = sd_bus_open_system(&j->bus);
        if (r < 0)
                goto fail;
        if (req->copy_from && (r = unit_path(j->bus, req->copy_from, &svc_path)) < 0)
                goto fail;
        r = sd_bus_match_signal(j->bus, NULL, DEST, PATH, MANAGER, "JobRemoved", on_transient_removed, j);
        if (r < 0)
                goto fail;
        r = sd_bus_call_method(j->bus, DEST, PATH, MANAGER, "Subscribe", &err, NULL, "");
        sd_bus_error_free(&err);
        if (r < 0)
                goto fail;

        j->keep_status = req->keep_status;
        j->unit = xasprintf("%s-%d-%llx.service", req->unit_prefix, (int)getpid(), (unsigned long long)now_ms());
        if ((r = sd_bus_message_new_method_call(j->bus, &m, DEST, PATH, MANAGER, "StartTransientUnit")) < 0 ||
            (r = sd_bus_message_append(m, "ss", j->unit, "fail")) < 0 || (r = sd_bus_message_open_container(m, 'a', "(sv)")) < 0 ||
            (r = append_own_props(m, req)) < 0 || (r = append_exec_start(m, req->argv)) < 0 ||
            (r = append_environment(j->bus, svc_path, m, req->env, req->env_complete)) < 0)
                goto fail;
        for (size_t i = 0; svc_path && req->copy_sandbox && i < ELEMENTSOF(sandbox_props); i++)
                if ((r = append_copied(j->bus, svc_path, m, "org.freedesktop.systemd1.Service", sandbox_props[i], &sandbox)) < 0)
                        goto fail;
        if ((r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_append(m, "a(sa(sv))", 0)) < 0)
                goto fail;
        r = sd_bus_call(j->bus, m, 0, &err, &reply);
        if (r < 0) {
                if (err.message)
                        strv_consume(&sandbox, xasprintf("error: %s", err.message));
                sd_bus_error_free(&err);
                goto fail;
        }
        const char *job;
        if ((r = sd_bus_message_read(reply, "o", &job)) < 0)
                goto fail;
        j->job = xstrdup(job);
        *ret = j;
        *ret_sandbox = sandbox;
        return 0;
fail:
        j->keep_status = false; /* no unit to reset */
        bus_job_free(j);
        *ret_sandbox = sandbox;
        return r;
}

/* The unit's object path, or -ENOENT once the manager has collected it. */
static int job_unit_path(bus_job *j, char **ret)
{
        sd_bus_error err = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(j->bus, DEST, PATH, MANAGER, "GetUnit", &err, &reply, "s", j->unit);
        if (r < 0 && sd_bus_error_has_name(&err, "org.freedesktop.systemd1.NoSuchUnit"))
                r = -ENOENT;
        sd_bus_error_free(&err);
        const char *p;
        if (r >= 0 && (r = sd_bus_message_read(reply, "o", &p)) >= 0)
                *ret = xstrdup(p);
        return r < 0 ? r : 0;
}

/* The job's end comes when the command exited; what it left in the cgroup is killed after
 * (deactivating). Settled once the unit is inactive, failed or collected. */
static int job_settle(bus_job *j)
{
        _cleanup_free_ char *path = NULL, *state = NULL;
        int r = job_unit_path(j, &path);
        if (r == -ENOENT) {
                j->settled = true;
                return 0;
        }
        if (r < 0 || (r = get_string(j->bus, path, "org.freedesktop.systemd1.Unit", "ActiveState", &state)) < 0)
                return r;
        j->settled = strcmp(state, "inactive") == 0 || strcmp(state, "failed") == 0;
        return 0;
}

int bus_job_exit_status(bus_job *j, int *ret_status)
{
        if (j->result && strcmp(j->result, "done") == 0) {
                *ret_status = 0;
                return 0;
        }
        _cleanup_free_ char *path = NULL, *result = NULL;
        static const char *const svc = "org.freedesktop.systemd1.Service";
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int32_t code = 0, status = 0;
        int r = job_unit_path(j, &path);
        if (r >= 0 && (r = get_string(j->bus, path, svc, "Result", &result)) >= 0 &&
            (r = sd_bus_get_property_trivial(j->bus, DEST, path, svc, "ExecMainCode", &err, 'i', &code)) >= 0)
                r = sd_bus_get_property_trivial(j->bus, DEST, path, svc, "ExecMainStatus", &err, 'i', &status);
        sd_bus_error_free(&err);
        if (r < 0)
                return r;
        if (strcmp(result, "timeout") == 0)
                return -ETIMEDOUT;
        if (code == CLD_EXITED)
                *ret_status = W_EXITCODE(status, 0);
        else if (code == CLD_KILLED || code == CLD_DUMPED)
                *ret_status = W_EXITCODE(0, status);
        else
                return -ENODATA; /* the command never ran (a User= or Group= systemd refused) */
        return 0;
}

int bus_job_poll_fd(bus_job *j, short *ret_events, int *ret_timeout_ms)
{
        int fd = sd_bus_get_fd(j->bus), ev = sd_bus_get_events(j->bus);
        uint64_t usec;
        if (fd < 0 || ev < 0)
                return fd < 0 ? fd : ev;
        *ret_events = (short)ev;
        /* Between the job's end and the unit's: asked again shortly. */
        *ret_timeout_ms = j->result && !j->settled ? 20 : -1;
        if (*ret_timeout_ms < 0 && sd_bus_get_timeout(j->bus, &usec) >= 0 && usec != UINT64_MAX) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                uint64_t now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
                *ret_timeout_ms = usec > now ? (int)((usec - now) / 1000) + 1 : 0;
        }
        return fd;
}

int bus_job_process(bus_job *j, bool *ret_done, const char **ret_result)
{
        int r;
        while ((r = sd_bus_process(j->bus, NULL)) > 0)
                ;
        if (r >= 0 && j->result && !j->settled)
                r = job_settle(j);
        *ret_done = j->settled;
        *ret_result = j->result;
        return r;
}

int bus_job_stop(bus_job *j)
{
        return sd_bus_call_method(j->bus, DEST, PATH, MANAGER, "StopUnit", NULL, NULL, "ss", j->unit, "replace");
}

static int call_unit_method(const char *method, const char *unit)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        r = sd_bus_call_method(bus, DEST, PATH, MANAGER, method, &err, NULL, "ss", unit, "replace");
        sd_bus_error_free(&err);
        return r < 0 ? r : 0;
}

int bus_start_unit(const char *unit) { return call_unit_method("StartUnit", unit); }
int bus_stop_unit(const char *unit) { return call_unit_method("StopUnit", unit); }

int bus_stop_units_matching(const char *pattern, bool (*want)(const char *unit), int timeout_ms, char ***ret_stopped)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        _cleanup_strv_ char **units = NULL;
        const char *name, *active, *s;
        uint32_t u;
        int r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_call_method(bus, DEST, PATH, MANAGER, "ListUnitsByPatterns", NULL, &reply, "asas", 0, 1, pattern);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
        while (r >= 0 &&
               (r = sd_bus_message_read(reply, "(ssssssouso)", &name, &s, &s, &active, &s, &s, &s, &u, &s, &s)) > 0)
                if (strcmp(active, "inactive") != 0 && strcmp(active, "failed") != 0 && want(name) &&
                    (r = sd_bus_call_method(bus, DEST, PATH, MANAGER, "StopUnit", NULL, NULL, "ss", name, "replace")) >= 0)
                        strv_push(&units, name);
        long long end = now_ms() + timeout_ms;
        for (size_t i = 0; r >= 0 && units && units[i];) {
                _cleanup_free_ char *path = NULL, *state = NULL;
                if ((r = unit_path(bus, units[i], &path)) < 0 ||
                    (r = get_string(bus, path, "org.freedesktop.systemd1.Unit", "ActiveState", &state)) < 0)
                        break;
                if (strcmp(state, "inactive") == 0 || strcmp(state, "failed") == 0) {
                        (void)sd_bus_call_method(bus, DEST, PATH, MANAGER, "ResetFailedUnit", NULL, NULL, "s", units[i]);
                        i++;
                } else if (now_ms() > end)
                        r = -ETIMEDOUT;
                else
                        usleep(20 * 1000);
        }
        if (r >= 0)
                *ret_stopped = TAKE_PTR(units);
        return r < 0 ? r : 0;
}

static int get_strv(sd_bus *bus, const char *path, const char *iface, const char *prop, char ***ret)
{
        sd_bus_error err = SD_BUS_ERROR_NULL;
        char **l = NULL;
        int r = sd_bus_get_property_strv(bus, DEST, path, iface, prop, &err, &l);
        sd_bus_error_free(&err);
        if (r < 0)
                return r;
        *ret = l ? l : xcalloc(1, sizeof(char *)); /* sd-bus allocates with malloc: a strv like ours */
        return 0;
}

static int get_env_files(sd_bus *bus, const char *path, char ***ret)
{
        sd_bus_error err = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        int r = sd_bus_get_property(bus, DEST, path, "org.freedesktop.systemd1.Service", "EnvironmentFiles", &err,
                                    &reply, "a(sb)");
        sd_bus_error_free(&err);
        if (r < 0)
                return r;
        if ((r = sd_bus_message_enter_container(reply, 'a', "(sb)")) < 0)
                return r;
        char **l = xcalloc(1, sizeof(char *));
        const char *file;
        int ignore;
        while ((r = sd_bus_message_read(reply, "(sb)", &file, &ignore)) > 0)
                strv_consume(&l, xasprintf("%s%s", ignore ? "-" : "", file));
        if (r < 0) {
                strv_free(l);
                return r;
        }
        *ret = l;
        return 0;
}

void bus_unit_exec_free(struct bus_unit_exec *e)
{
        free(e->fragment_path);
        strv_free(e->dropin_paths);
        strv_free(e->environment);
        strv_free(e->unset_environment);
        strv_free(e->environment_files);
        free(e->user);
        free(e->group);
        strv_free(e->supplementary_groups);
        *e = (struct bus_unit_exec){0};
}

int bus_unit_exec(const char *unit, struct bus_unit_exec *ret)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = NULL, *active = NULL;
        struct bus_unit_exec e = {0};
        if ((r = unit_lookup(bus, unit, &path, &e.found)) < 0)
                return r;
        if (!e.found) {
                *ret = e;
                return 0;
        }
        static const char *const svc = "org.freedesktop.systemd1.Service";
        sd_bus_error err = SD_BUS_ERROR_NULL;
        if ((r = get_string(bus, path, "org.freedesktop.systemd1.Unit", "ActiveState", &active)) < 0 ||
            (r = get_bool(bus, path, "org.freedesktop.systemd1.Unit", "NeedDaemonReload", &e.need_reload)) < 0 ||
            (r = get_string(bus, path, "org.freedesktop.systemd1.Unit", "FragmentPath", &e.fragment_path)) < 0 ||
            (r = get_strv(bus, path, "org.freedesktop.systemd1.Unit", "DropInPaths", &e.dropin_paths)) < 0 ||
            (r = get_strv(bus, path, svc, "Environment", &e.environment)) < 0 ||
            (r = get_strv(bus, path, svc, "UnsetEnvironment", &e.unset_environment)) < 0 ||
            (r = get_env_files(bus, path, &e.environment_files)) < 0 ||
            (r = get_string(bus, path, svc, "User", &e.user)) < 0 ||
            (r = get_string(bus, path, svc, "Group", &e.group)) < 0 ||
            (r = get_strv(bus, path, svc, "SupplementaryGroups", &e.supplementary_groups)) < 0 ||
            (r = get_bool(bus, path, svc, "DynamicUser", &e.dynamic_user)) < 0 ||
            (r = sd_bus_get_property_trivial(bus, DEST, path, svc, "MainPID", &err, 'u', &e.main_pid)) < 0) {
                sd_bus_error_free(&err);
                bus_unit_exec_free(&e);
                return r;
        }
        e.active = strcmp(active, "active") == 0 || strcmp(active, "reloading") == 0 || strcmp(active, "activating") == 0;
        *ret = e;
        return 0;
}
