/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 1: validation of names and paths that become file names, unit names and env values. */
#pragma once
#include "util.h"
#include <sys/stat.h>

#define APP_NAME_MAX 63

/* ^[a-z0-9][a-z0-9_-]{0,62}$ */
bool app_name_valid(const char *s);
/* ^[a-z_][a-z0-9_-]{0,31}$: the portable subset that useradd accepts by default. */
bool user_name_valid(const char *s);
/* A dotted Python module name, each part an identifier, at most 200 characters. */
bool module_name_valid(const char *s);
/* Accepts "apache2" or "apache2.service" (also instances like "gunicorn@app.service");
 * rejects '/', '%', '\\' and other characters that mean something in unit files. */
int unit_name_normalize(const char *s, char **ret);
/* An absolute, normalised path ("/a/b", no "." "..", "//" or trailing slash) of safe characters
 * only ([A-Za-z0-9._+@-] and '/'): it goes into EnvironmentFiles, tmpfiles.d lines and
 * PYTHONPATH, where ':' '%' '"' '$' and white space all mean something. */
bool path_safe_absolute(const char *s);
/* The same for a relative path below a directory (".pth" lines), after normalising "./". */
bool path_safe_relative(const char *s);

/* "drwxr-x---" plus set-id/sticky letters, as ls prints. */
void mode_string(mode_t m, char out[11]);
