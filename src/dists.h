/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: the distributions a venv's site-packages holds (*.dist-info, *.egg-info,
 * direct_url.json), as a rebuild installs them again, read without running any Python. */
#pragma once
#include "util.h"

#include <stdbool.h>
#include <stddef.h>

struct dist {
        char *name, *version, *req; /* req: "name==version" or "name @ URL" */
};

struct dists {
        struct dist *d;
        size_t n;
        char **stops; /* what cannot be reinstalled, one sentence each */
        char **left;  /* what the new venv's `python -m venv` brings itself */
        char **notes; /* requirements asked for otherwise than they were installed, and why */
};

void dists_free(struct dists *l);
/* What site-packages (sitefd) holds, sorted by name: each distribution with the requirement
 * that installs it as it was, what cannot be (stops), and pip and setuptools (left). rootfd
 * resolves the file:// URLs of direct_url.json. pyver ("3.13", or NULL) is the Python the
 * requirements are for: a distribution installed from a wheel file built for another Python
 * is asked for by name and version instead (notes says so) when the rebuild names where pip
 * looks (explicit_sources), and is a stop otherwise. Names, versions and URLs that pip would
 * not take as requirements are stops; more than 10,000 distributions or 256 MiB of metadata
 * is -E2BIG. */
int read_dists(int rootfd, int sitefd, const char *pyver, bool explicit_sources, struct dists *ret);
/* Distribution names compare as PEP 503 normalises them. */
bool same_dist(const char *a, const char *b);
