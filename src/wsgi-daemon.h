/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 4.1: an app in a mod_wsgi daemon process of its own (WSGIScript=, URL=): its Apache
 * conf (Debian's conf-available and the conf-enabled symlink a2enconf makes, or RHEL's
 * conf.d), written only after Apache's configuration test passed with it and taken back
 * byte for byte when the test fails; its removal; and what its probe imports with. */
#pragma once
#include "app.h"
#include "util.h"
#include "wiring.h"

/* The process group's name, "pyshare-APP". */
char *wsgi_daemon_group(const char *app);
/* URL=, or /APP. */
char *wsgi_daemon_url(const struct app *a);
/* The conf's text: WSGIDaemonProcess, WSGIScriptAlias and the <Directory> of the script. */
char *wsgi_daemon_conf_text(const struct app *a, const char *group, const char *url);
/* Setup's checks before anything changes: an Apache unit, a script that is a regular file
 * and not directly in a system directory (prefix_reserved: the conf grants its directory). */
int wsgi_daemon_check(const struct ctx *x, const struct app *a);

/* What the configuration test did, for the summary and --json. */
enum wsgi_configtest { WSGI_TEST_NOT_NEEDED, WSGI_TEST_PASSED, WSGI_TEST_SKIPPED, WSGI_TEST_WOULD_RUN };
const char *wsgi_configtest_name(enum wsgi_configtest t);

/* Writes and enables the app's conf (enable) or removes it; with enable, a changed conf is
 * tested with apache2ctl configtest (httpd -t) and put back as it was when the test fails
 * (-PS_E_PROBLEM, the test's output said). The conf's path in *ret_path (shown form). */
int wsgi_daemon_update(const struct ctx *x, const struct app *a, bool enable, struct actions *acts,
                       bool *ret_changed, enum wsgi_configtest *ret_test, char **ret_path);

/* The environment the app's daemon process gives Python: Apache's own, that is the service's
 * merged EnvironmentFile when there is one (a daemon process inherits it), and no more. */
char **wsgi_daemon_probe_env(const struct ctx *x, const struct app *a, const char *path_value);
/* Why Apache would not run the app with its venv (its conf is not enabled, another
 * WSGIDaemonProcess or WSGIScriptAlias of the name or URL takes precedence, the server-wide
 * WSGIPythonHome is another venv): lines added to *problems. */
void wsgi_daemon_probe_problems(const struct ctx *x, const struct app *a, char ***problems);
