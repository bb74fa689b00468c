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
/* Whether the unit is active and its NeedDaemonReload flag. */
int bus_unit_state(const char *unit, bool *ret_active, bool *ret_need_reload);
