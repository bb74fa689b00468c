/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: /etc/pyshare/APP.conf — an INI file with one [App] section. */
#pragma once
#include "util.h"

struct app_config {
        char *python;  /* Python= */
        char *group;   /* Group= */
        char *service; /* Service= (normalised, with .service) */
        char *user;    /* User=: the first, the service user */
        char **more_users; /* the User= lines after the first: other users that read the venv */
        char *prefix;  /* Prefix= */
        char **modules; /* Module=, one per line; an empty Module= empties the list (non-NULL, empty) */
        char *requirements; /* Requirements=: a requirements file installed from Wheels= */
        char *wheels;       /* Wheels=: a directory of wheels, the only source pip may use */
        int cgi;            /* Cgi=: CFG_UNSET, CFG_NO or CFG_YES */
        int watch;          /* Watch=: the repair path unit is enabled */
};

enum { CFG_UNSET = 0, CFG_NO = 1, CFG_YES = 2 };

/* Fields set in over replace those of base (a package's /usr/lib/pyshare/APP.conf overridden
 * by /etc/pyshare/APP.conf). */
void config_overlay(struct app_config *base, const struct app_config *over);
/* Clears every field of c that has the same value in ref (what /etc need not repeat). */
void config_subtract(struct app_config *c, const struct app_config *ref);

#define CONFIG_MAX_SIZE (64 * 1024)

void config_free(struct app_config *c);
static inline void config_freep(struct app_config *c) { config_free(c); }
#define _cleanup_config_ _cleanup_(config_freep)

#define CONFIG_USERS_MAX 8 /* User= lines */

/* Parses text into c (fields already set are replaced; Module= lines append; the first User=
 * line of the text replaces the users, the next ones add to them; an empty one clears them). Strict: only
 * "[App]", "Key=Value", blank lines and lines starting with '#' or ';'. On error returns
 * -EINVAL with the 1-based line in *ret_line and a reason in *ret_why (static string). */
int config_parse(const char *text, size_t len, struct app_config *c, unsigned *ret_line, const char **ret_why);
/* Checks every value (names, unit, safe absolute paths, modules); the first bad key in *ret_key. */
int config_validate(const struct app_config *c, const char **ret_key);
/* Every User= in order: the service user first (an empty list without one). */
char **config_users(const struct app_config *c);
/* The canonical file text (deterministic, so that a rerun rewrites nothing). */
char *config_format(const struct app_config *c);
