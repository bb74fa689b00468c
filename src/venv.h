/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: the virtualenv — its creation, its state, and what its site-packages holds
 * (top-level packages here, .pth path lines in pth.h), read without running any of it. */
#pragma once
#include "pth.h"
#include "util.h"

#define VENV_MARKER ".pyshare-complete"

enum venv_state {
        VENV_MISSING,
        VENV_INCOMPLETE, /* our creation was interrupted: root-owned 0700, no marker */
        VENV_FOREIGN,    /* a virtualenv pyshare did not create: adopted */
        VENV_READY,
        VENV_NOT_A_VENV, /* something else is there */
};

/* VENV_INCOMPLETE only for a directory exactly as venv_create's mkdir left it (root:root 0700)
 * that holds nothing but what `python -m venv` writes: setup deletes it to start again. */
int venv_state(int prefixfd, const char *app, enum venv_state *ret);

/* The marker's texts: what venv_create writes (0.1.0 wrote the same) and what adopting
 * writes. A marker with any other text, owner, type or link count is not pyshare's. */
#define VENV_MARKER_CREATED "pyshare: this virtualenv was created completely.\n"
#define VENV_MARKER_ADOPTED "pyshare: adopted an existing virtualenv.\n"

enum venv_origin {
        VENV_ORIGIN_NONE,    /* no marker */
        VENV_ORIGIN_CREATED, /* pyshare created it */
        VENV_ORIGIN_ADOPTED, /* pyshare adopted it: its files are not pyshare's to delete */
        VENV_ORIGIN_FOREIGN, /* a marker pyshare did not write */
};
/* Reads venvfd's marker, pinned without following: a regular file of root's with one link. */
int venv_marker_read(int venvfd, enum venv_origin *ret);
/* Writes the marker for origin (CREATED or ADOPTED) atomically, root:root 0644. */
int venv_marker_write(int venvfd, enum venv_origin origin);

enum venv_purge {
        VENV_PURGE_MISSING,  /* nothing there */
        VENV_PURGE_DELETE,   /* pyshare created it and it is owned as pyshare made it */
        VENV_PURGE_ADOPTED,  /* adopted: unwired, its files stay */
        VENV_PURGE_NOT_OURS, /* anything else: left alone, *ret_why says why */
};
/* Whether purge may delete prefixfd/app: a directory (not followed) owned by root, either with
 * pyshare's layout (the set-group-ID bit, a group other than root, nothing for others) or as
 * venv_create leaves it before the layout (root:root 0700), that carries the CREATED marker.
 * *ret_why (NOT_OURS only) is a phrase for "left DIR alone: ...". */
int venv_purge_check(int prefixfd, const char *app, enum venv_purge *ret, char **ret_why);

/* Creates prefixfd/app root:root 0700 (so nobody can plant anything while Python runs), runs
 * `python -I -m venv` on it from /, then writes the marker last. An interrupted creation is
 * removed first. With chroot_dir (an image), the image's Python runs in the sandbox
 * (sandbox_run) on a directory that only the sandbox's id may write, and everything is given
 * back to root:root before the marker. */
int venv_create(int prefixfd, const char *app, const char *venv_path, const char *python, const char *chroot_dir,
                char **ret_output);
/* Runs argv, a program of the image root_dir that works on the venv prefixfd/app (its pip), with
 * the environment env, without privileges on the host (sandbox_run): meanwhile the venv belongs
 * to the sandbox's unused host id, which is root in there; afterwards everything in it that
 * id owns belongs to root and the venv's group (modes and ACLs are the caller's to re-apply). Hard-linked files
 * are not handed over. Returns as run_command does. */
int venv_run_in_image(int prefixfd, const char *app, char *const argv[], char *const env[], const char *root_dir,
                      int timeout_ms, char **ret_output);
/* The venv's pip (the image's path pip) with args, as venv_run_in_image runs it, on the venv
 * prefix_rel/app below rootfd, with pip's fixed environment (no input, no cache, no version
 * check). */
int venv_pip_in_image(int rootfd, const char *prefix_rel, const char *app, const char *pip, char *const *args,
                      const char *root_dir, int timeout_ms, char **ret_output);
/* "lib/python3.11/site-packages", the only lib/python3.*\/site-packages of the venv. */
int venv_site_packages(int venvfd, char **ret_rel);

/* Top-level import names of the installed distributions, from *.dist-info (top_level.txt, or
 * else RECORD), without pip's and setuptools' own. Sorted, unique. */
int venv_top_level(int sitefd, char ***ret);
