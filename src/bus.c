/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bus.h"

#include <systemd/sd-bus.h>
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
        r = sd_bus_message_read(reply, "v", "b", &b);
        if (r < 0)
                return r;
        *ret = b;
        return 0;
}

int bus_unit_user(const char *unit, bool *ret_found, char **ret_user, bool *ret_dynamic)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = NULL, *load = NULL, *user = NULL;
        if ((r = unit_path(bus, unit, &path)) < 0 ||
            (r = get_string(bus, path, "org.freedesktop.systemd1.Unit", "LoadState", &load)) < 0)
                return r;
        if (strcmp(load, "loaded") != 0) {
                *ret_found = false;
                return 0;
        }
        *ret_found = true;
        if ((r = get_string(bus, path, "org.freedesktop.systemd1.Service", "User", &user)) < 0 ||
            (r = get_bool(bus, path, "org.freedesktop.systemd1.Service", "DynamicUser", ret_dynamic)) < 0)
                return r;
        *ret_user = *user ? TAKE_PTR(user) : NULL;
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
