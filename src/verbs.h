/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 4.2: the verbs, one file each (verb-*.c; repair and pip share one). The only layer that
 * tells the user about errors, with app.c, wiring.c and tree.c just below it. */
#pragma once
#include "app.h"
#include "output.h"
#include "util.h"

struct setup_opts {
        const char *python, *group, *service, *user, *prefix;
        char **more_users; /* --user given more than once: the users after the first */
        char **modules;
        const char *from; /* a package's settings file instead of /usr/lib/pyshare/APP.conf */
        const char *wsgi_script, *url; /* a mod_wsgi daemon process of its own */
        bool restart, no_probe, adopt;
        int cgi, watch; /* -1 keep, 0 no, 1 yes */
};

struct probe_opts {
        char **modules;
        bool interpreter;
        int timeout_sec;
};

struct rebuild_opts {
        const char *python, *find_links, *index_url;
        bool upgrade, keep_old;
};

int verb_setup(struct ctx *x, const char *app, const struct setup_opts *o);
int verb_probe(struct ctx *x, const char *app, const struct probe_opts *o);
int verb_repair(struct ctx *x, const char *app);
int verb_remove(struct ctx *x, const char *app, bool purge, bool restart);
int verb_pip(struct ctx *x, const char *app, char *const *args);
int verb_list(struct ctx *x);
int verb_status(struct ctx *x, const char *app);
int verb_rebuild(struct ctx *x, const char *app, const struct rebuild_opts *o);
/* Finishes (deletes the old venv) or rolls back (the old venv back at its path) a rebuild of
 * the app that was interrupted, in the prefix pfd: 1 when it rolled back, 0 when there was
 * nothing to roll back. Setup and rebuild start with it. */
int rebuild_recover(const struct ctx *x, const struct app *a, int pfd);
/* Every app's venv against its service's Python, each mismatch a warning (and a journal entry
 * with PYSHARE_APP=): the dpkg trigger's check after a Python or mod_wsgi upgrade. Always 0:
 * it never fails the package, and never rebuilds. */
int verb_python_check(struct ctx *x);

/* Runs the probe of an app and prints its verdict (into j under json_key with --json): 0 when
 * every module imported, -PS_E_PROBLEM when not. The imports run with the environment and as
 * the users of the service's next start (the service model); with judge_now also with the
 * running processes' environment when it differs, and a failure there fails too (probe; setup
 * and repair judge the next start, which they have just changed). Setup ends with it. */
int run_probe(const struct ctx *x, const struct app *a, char *const *requested, bool interpreter, int timeout_sec,
              bool judge_now, struct json *j, const char *json_key);
