/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: a venv's .pth files as site.py reads them, read and never run: which directories
 * their path lines add that the service user can reach, what they would import, and what was
 * left out, within caps, in time linear in what is read. */
#pragma once
#include "users.h"
#include "util.h"

/* Caps on what a venv's .pth files can make a root pyshare do (SECURITY.md: every input has a
 * size). site.py has none; real venvs hold fewer than 20 .pth files of a few lines each. */
#define PTH_FILES_MAX 256                 /* .pth files read, in name order; the rest left out */
#define PTH_FILE_BYTES_MAX (64 * 1024)    /* a larger file is left out whole */
#define PTH_FILE_LINES_MAX 1024           /* a file of more lines is left out whole */
#define PTH_TOTAL_BYTES_MAX (1024 * 1024) /* a file that would pass either total is left out */
#define PTH_TOTAL_LINES_MAX 8192
#define PTH_DIRS_MAX 256                  /* directories passed on to PYTHONPATH */
#define PTH_DIRS_BYTES_MAX (16 * 1024)    /* and their length there (EnvironmentFile values take 32 KiB, shared by a service's apps) */
#define PTH_LOOKUPS_MAX 4096              /* path components looked up, as the user would */
#define PTH_CODE_LINES_MAX 16             /* import lines listed (all are counted) */

/* Why something in the .pth files does not reach PYTHONPATH. */
enum pth_refusal {
        PTH_REFUSED_FILES,       /* a .pth file beyond PTH_FILES_MAX */
        PTH_REFUSED_NOT_FILE,    /* a *.pth name that is not a readable regular file */
        PTH_REFUSED_FILE_SIZE,   /* over PTH_FILE_BYTES_MAX or PTH_FILE_LINES_MAX */
        PTH_REFUSED_TOTAL,       /* would pass PTH_TOTAL_BYTES_MAX or PTH_TOTAL_LINES_MAX */
        PTH_REFUSED_NOT_BELOW,   /* a line that climbs above / */
        PTH_REFUSED_CHARS,       /* characters that cannot go into PYTHONPATH */
        PTH_REFUSED_UNREACHABLE, /* the service user cannot search its way there, or read it */
        PTH_REFUSED_DIRS,        /* PTH_DIRS_MAX or PTH_DIRS_BYTES_MAX reached */
        PTH_REFUSED_LOOKUPS,     /* PTH_LOOKUPS_MAX reached: not looked at */
        _PTH_REFUSED_MAX,
};

struct pth_info {
        char **dirs;       /* directories (or zip files) named by path lines that the service user
                            * can reach, in order, each once */
        char **code_lines; /* "file: line" for the first PTH_CODE_LINES_MAX import lines, never run */
        size_t n_code_lines;                  /* all import lines */
        size_t refused[_PTH_REFUSED_MAX];     /* how many of each */
        char *refused_first[_PTH_REFUSED_MAX]; /* the first of each: "file" or "file: line" */
        char *user;                           /* the service user's name, for the summary */
        unsigned lookups;                     /* path components looked up */
};
void pth_info_free(struct pth_info *p);
/* Reads the *.pth files in site-packages (sitefd, at site_abs as the system sees it) sorted by
 * name, as site.py does, within the caps above, in time linear in what it reads. A path line
 * enters dirs only when user can reach it with its own permissions (its uid and groups, modes
 * and ACLs of every directory on the way, r-x on a directory, r on a file), looked up below
 * rootfd as if it were / (an image under --root: its symlinks never lead out of it). The
 * user's groups come from the host (userdbfd < 0) or the image's /etc/group (userdbfd). A path
 * the user cannot see is dropped silently, as site.py drops it. */
int venv_read_pth(int rootfd, int userdbfd, int sitefd, const char *site_abs, const struct ps_user *user,
                  struct pth_info *ret);
/* One line for people: what the .pth files held that PYTHONPATH does not carry, with counts
 * per reason and the first of each; NULL when nothing was left out. */
char *pth_refused_summary(const struct pth_info *p);
