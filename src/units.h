/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: systemd unit files and Apache's run configuration as files and commands: who a
 * service runs as when systemd is not there to ask, and the text of the files pyshare writes
 * for systemd (drop-in, service EnvironmentFile, tmpfiles.d entry). */
#pragma once
#include "util.h"

/* Whether the unit exists in the unit search path below rootfd. */
int unit_file_exists(int rootfd, const char *unit, bool *ret);
/* The unit's file and its drop-ins, as systemd finds them in the search path below rootfd,
 * in the order systemd applies them: paths ("/etc/systemd/system/x.service.d/a.conf") and
 * texts, parallel lists. -PS_E_NOTFOUND without a unit file (or when it is masked). */
int unit_files_read(int rootfd, const char *unit, char ***ret_paths, char ***ret_texts);
/* What a unit's [Service] sections say about its processes' environment and identity, as
 * systemd applies them: the last assignment wins, an empty one resets a list. */
struct unit_service_settings {
        char **environment;       /* Environment= words, "KEY=VALUE" */
        char **environment_where; /* parallel: "FILE:LINE" */
        char **environment_files; /* EnvironmentFile= values ("-/path" included) */
        char **unset;             /* UnsetEnvironment= words */
        char *user, *group;
        char **supplementary;
        bool dynamic;
        char **exec_start;
};
void unit_service_settings_free(struct unit_service_settings *u);
/* Applies the [Service] settings of one unit file or drop-in (path names it in "where"). */
void unit_parse_service(const char *path, const char *text, struct unit_service_settings *u);
/* Reads the unit and its drop-ins (unit_files_read) and applies them in order. */
int unit_file_settings(int rootfd, const char *unit, char ***ret_paths, struct unit_service_settings *ret);
/* Parses an Environment= value as systemd does (whitespace-separated words, quotes, C escapes,
 * %% ); invalid words are dropped. "KEY=VALUE" list. */
char **unit_parse_environment(const char *value);
/* User= and DynamicUser= of unit from its file and drop-ins (the last assignment wins);
 * *ret_user NULL when it has no User= (it runs as root). -PS_E_NOTFOUND without a unit file. */
int unit_file_user(int rootfd, const char *unit, char **ret_user, bool *ret_dynamic);
/* Group= and SupplementaryGroups= of unit, by name (NULL when none), the same way. */
int unit_file_groups(int rootfd, const char *unit, char ***ret_groups);
/* The service an app is wired into by default: apache2.service where its unit file exists,
 * else httpd.service where that one does, else apache2.service (which setup then reports as
 * missing). */
const char *unit_default_service(int rootfd);
/* Whether unit is Apache (apache2 on Debian, httpd on RHEL/Fedora), and its control command. */
const char *unit_apache_command(const char *unit);

char *unit_dropin_text(const char *service_env_path);
/* Apache's configuration snippet that passes PYTHONPATH on to CGI scripts. */
const char *unit_apache_cgi_text(void);
/* apps and paths are parallel lists: the PYTHONPATH entries of each app, in app order. */
int unit_service_env_text(const char *unit, char *const *apps, char *const *pythonpaths, char **ret);
char *unit_tmpfiles_text(const char *app, const char *venv, char *const *users, const char *group);
