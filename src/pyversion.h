/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 3: which Python a service runs and which Python a venv was built by, read from files
 * (ELF dynamic sections, #! lines, pyvenv.cfg, directory names, extension modules' ABI tags),
 * never by running either. A venv built by another minor version than the service's Python
 * cannot be imported by it: that is the cause "python-mismatch", fixed by `pyshare rebuild`. */
#pragma once
#include "util.h"

#define PYVERSION_CAUSE "python-mismatch"

enum pyservice_kind {
        PYSERVICE_UNKNOWN, /* the unit runs no Python that can be told from its files */
        PYSERVICE_MOD_WSGI,
        PYSERVICE_UNIT, /* ExecStart= runs a Python, or a script whose #! names one */
        PYSERVICE_CGI,  /* Apache without mod_wsgi: the scripts' #! lines decide */
};

/* "3.11" from "libpython3.11.so.1.0", "python3.11", "cpython-311-x86_64-linux-gnu" ("3.11"
 * too), or NULL. */
char *pyversion_from_name(const char *name);

/* The program at path below rootfd, every symlink resolved inside the root (*ret_resolved, as
 * the system sees it), and its version ("3.11") from its name, or else from the one
 * lib/pythonX.Y beside its bin/ (NULL when neither tells). */
int pyversion_of_program(int rootfd, const char *path, char **ret_resolved, char **ret_version);

struct pyservice {
        enum pyservice_kind kind;
        char *version; /* "3.11", or NULL */
        char *source;  /* where it was read, for people: "/usr/lib/apache2/modules/mod_wsgi.so links
                        * libpython3.11.so.1.0" */
        char *program; /* the interpreter a unit runs, resolved */
        char *python_home; /* "WSGIPythonHome /x (FILE:LINE)" where set */
};
void pyservice_free(struct pyservice *s);

/* What the unit's Python is, from its files below rootfd (not from the manager). */
int pyversion_service(int rootfd, const char *unit, struct pyservice *ret);

struct pyvenv {
        char *version;      /* X.Y it was built by: pyvenv.cfg's version, else lib/pythonX.Y */
        char *cfg_version;  /* pyvenv.cfg version (or version_info) as written: "3.11.2" */
        char *home;         /* pyvenv.cfg home */
        char **lib_versions; /* X.Y of each lib/pythonX.Y */
        char *bin_target;    /* where bin/python leads, resolved; NULL when it leads nowhere */
        char *bin_link;      /* bin/python's last link as written, when it leads nowhere */
        char **abi_tags;     /* X.Y of the cpython-XY extension modules below lib/, unique */
};
void pyvenv_free(struct pyvenv *v);
/* Reads the venv at venv_rel below rootfd (the system sees it as venv_abs). */
int pyversion_venv(int rootfd, const char *venv_rel, const char *venv_abs, struct pyvenv *ret);

/* A venv and the Python it must serve. */
struct pycheck {
        char *want;        /* X.Y the venv must have been built by, NULL when it cannot be told */
        char *want_source; /* a phrase: "apache2.service's mod_wsgi (... links libpython3.11.so.1.0)" */
        bool mod_wsgi;
        bool cgi;
        struct pyvenv venv;
        char *mismatch; /* NULL when the venv fits; else a sentence naming both versions and the fix */
};
void pycheck_free(struct pycheck *c);
/* Judges the venv of app at venv_rel (venv_abs) for unit. python is the app's Python=; the
 * reference is mod_wsgi's libpython, else (python_given) python, else the interpreter the
 * unit's ExecStart= runs when it is not the venv's own, else python. */
int pycheck_app(int rootfd, const char *app, const char *unit, const char *venv_rel, const char *venv_abs,
                const char *python, bool python_given, struct pycheck *ret);
/* pycheck_app (python not given) as a job that runs once, for a probe_request's meanwhile;
 * with abi false without the walk of lib/ for the extension modules' tags (pyvenv.cfg,
 * lib/pythonX.Y and bin/python only: what the probe needs when its imports work). r: its
 * result. */
struct pycheck_job {
        int rootfd;
        const char *app, *unit, *venv_rel, *venv_abs, *python;
        bool abi, done;
        struct pycheck *pc;
        int r;
};
void pycheck_job_run(void *job);
/* {"causes": [...]} member: the mismatch as a cause with both versions and the fix (an empty
 * list when the venv fits). */
struct json;
void pycheck_json(struct json *j, const struct pycheck *c, const char *app);
