/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: libpython embedded the way mod_wsgi embeds it. Only ever called in the probe's
 * child, after it dropped every privilege: Python is never initialised in the root process. */
#pragma once
#include "util.h"

/* Initialises Python with the standard ("python") configuration, which reads PYTHONPATH and
 * the rest of the environment, runs code with sys.argv = argv, finalises. Returns the exit
 * status a python -c would have (0 ok, 1 uncaught exception, 120 initialisation failed). */
int pyembed_run(const char *code, int argc, char *const *argv);
/* "3.11" — the Python this binary embeds. */
const char *pyembed_version(void);
