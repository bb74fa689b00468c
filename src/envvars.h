/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: Debian's /etc/apache2/envvars as apache2ctl sources it: the subset of sh met in it
 * (assignments, export and unset, ${...} expansions, if/elif/else/fi with test, ". FILE"),
 * interpreted and never run; what is not understood is listed, not guessed. Files are read
 * below a root fd, so it works on the host and on an image. */
#pragma once
#include "apache-text.h"

/* One variable as a file set it, with where ("/etc/apache2/envvars:17"). */
struct apache_var {
        char *name, *value, *where;
        bool exported;
};

/* What sourcing envvars leaves: every variable with its value and where it was last set,
 * in the order they were first set, and the lines that were not understood. */
struct apache_envvars {
        struct apache_var *vars;
        size_t n;
        char **unparsed; /* "/etc/apache2/envvars:12: text" */
};
void apache_envvars_free(struct apache_envvars *e);
/* The environment the shell had before sourcing (each "KEY=VALUE", all exported). */
int apache_envvars_parse(int rootfd, const char *path, const char *text, size_t len, char *const *initial,
                         struct apache_envvars *ret);
/* Reads path below rootfd and parses it; ". FILE" lines are read below rootfd too. */
int apache_envvars_read(int rootfd, const char *path, char *const *initial, struct apache_envvars *ret);
/* The variables the shell exports to the program it starts, "KEY=VALUE" (a list to free). */
char **apache_envvars_exported(const struct apache_envvars *e);
/* The entry of name when it is exported, else NULL. */
const struct apache_var *apache_envvars_get(const struct apache_envvars *e, const char *name);

/* Debian's envvars as apache2ctl sources it: with APACHE_CONFDIR=/etc/apache2 and the
 * environment systemd gives (env, may be NULL). -PS_E_NOTFOUND when there is none. */
int apache_debian_envvars(int rootfd, char *const *env, struct apache_envvars *ret);
