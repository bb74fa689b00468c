/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 4.1: two apps of one service that provide the same top-level import name, read from
 * their venvs' dist-info (top_level.txt, else RECORD) without running Python: which one the
 * service imports (the first in its merged PYTHONPATH, apps sorted by name; a daemon-wired
 * app's process inherits that PYTHONPATH in front of its venv), and the fix. Also which app's
 * venv a file belongs to, for the probe. */
#pragma once
#include "app.h"
#include "output.h"
#include "util.h"

struct provider {
        char *app, *dist, *version;
        bool daemon; /* the app runs in a mod_wsgi daemon process of its own */
};

struct conflict {
        char *name;          /* the top-level import name */
        struct provider *p;  /* p[0] is the one the service imports */
        size_t n;
        bool versions_differ;
};

void conflicts_free(struct conflict *c, size_t n);

/* The conflicts among the apps of unit: only names that a shared-path app provides (two
 * daemon-wired apps never see each other). */
int service_conflicts(const struct ctx *x, const char *unit, struct conflict **ret, size_t *ret_n);
/* Whether app is one of c's providers. */
bool conflict_involves(const struct conflict *c, const char *app);
/* One line for people: who provides it, which one unit imports, the fix. */
char *conflict_text(const struct conflict *c, const char *unit);

/* The conflicts that involve app, as the JSON array key (left out when there is none): each with its "cause" ("conflict"
 * when the versions differ, else "same-version"), the name, the app whose copy is imported,
 * the providers and the message. */
void conflicts_json(struct json *j, const char *key, const struct conflict *c, size_t n, const char *app,
                    const char *unit);

/* The app (not self) whose venv holds file, or NULL. */
char *app_of_file(const struct ctx *x, const char *self, const char *file);
