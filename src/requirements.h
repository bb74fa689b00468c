/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 4.1: pip as pyshare's own user (_pyshare, never root) and a package's requirements,
 * installed from its shipped wheels only. */
#pragma once
#include "app.h"
#include "util.h"

#define PIP_USER "_pyshare"

/* Runs the venv's pip as _pyshare with only the app's group (the caller repairs the tree). */
int run_pip(const struct ctx *x, const struct app *a, char *const *args, bool capture);
/* Installs Requirements= from Wheels= unless they did not change since the last install. */
int install_requirements(const struct ctx *x, const struct app *a, bool *ret_changed);
