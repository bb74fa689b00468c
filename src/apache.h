/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: Apache's configuration as files, read and never run: Debian's envvars the way
 * apache2ctl sources it, and the enabled configuration (apache2.conf or httpd.conf with what
 * they include) as httpd reads it at start, reduced to what decides who runs Python and with
 * which paths. Everything is read below a root fd, so it works on the host and on an image. */
#pragma once
#include "util.h"

/* Caps: a hostile or broken configuration costs bounded time and memory. */
#define APACHE_MAX_FILE_SIZE (1024 * 1024)
#define APACHE_MAX_FILES 1024
#define APACHE_MAX_TOTAL_SIZE (16 * 1024 * 1024)
#define APACHE_MAX_DEPTH 16
#define APACHE_MAX_LINES 200000
#define APACHE_MAX_ITEMS 4096

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

enum apache_layout { APACHE_NONE, APACHE_DEBIAN, APACHE_RHEL };

struct apache_daemon {
        char *name, *user, *group, *supplementary_groups, *python_home, *python_path, *lang, *locale,
                *display_name, *home;
        char *where;
        int vhost; /* index in apache_config.vhosts, -1 at server level */
};

struct apache_script {
        char *url, *path;
        char *process_group;     /* effective: "" runs embedded in Apache's children */
        char *application_group; /* effective: "%{RESOURCE}" by default */
        bool match;              /* WSGIScriptAliasMatch: url is a regular expression */
        char *where;
        int vhost;
};

struct apache_config {
        enum apache_layout layout;
        char *server_root;
        char *user, *group; /* User/Group as httpd resolves them ("#-1" when not set) */
        char *user_where, *group_where;
        char **modules;  /* module identifiers that LoadModule loaded ("wsgi_module") */
        char *wsgi_module_path; /* the file LoadModule loads wsgi_module from */
        char *python_home, *python_path, *python_home_where, *python_path_where;
        struct apache_daemon *daemons;
        size_t n_daemons;
        struct apache_script *scripts;
        size_t n_scripts;
        char **vhosts;  /* "*:80 (/etc/apache2/sites-enabled/000-default.conf:1)" */
        char **passenv; /* "PYTHONPATH (/etc/apache2/conf-enabled/pyshare.conf:3)" */
        bool cgi;       /* cgi_module or cgid_module is loaded */
        char **files;   /* every file read, in order */
        char **problems; /* "FILE:LINE: what could not be followed or understood" */
};
void apache_config_free(struct apache_config *c);

/* Which layout the system below rootfd has: Debian's apache2.conf first, then httpd.conf. */
enum apache_layout apache_detect_layout(int rootfd);
/* Reads the configuration of layout below rootfd. env gives the variables httpd starts with
 * (for ${VAR}), defines the names given with -D. -PS_E_NOTFOUND without its main file. */
int apache_config_read(int rootfd, enum apache_layout layout, char *const *env, char *const *defines,
                       struct apache_config *ret);
/* Whether the daemon process group of this name is defined; NULL when not. */
const struct apache_daemon *apache_config_daemon(const struct apache_config *c, const char *name);
/* Splits a python-path or WSGIPythonPath value the way mod_wsgi does (at ':'). */
char **apache_split_python_path(const char *value);

/* The libpython that the shared object at path (below rootfd) links, from its DT_NEEDED
 * entries ("libpython3.11.so.1.0"), read from the ELF file without loading it. -ENOENT when
 * the file is missing or links none, -EINVAL when it is not a 64-bit little-endian ELF file. */
int apache_elf_libpython(int rootfd, const char *path, char **ret);

/* Debian's envvars as apache2ctl sources it: with APACHE_CONFDIR=/etc/apache2 and the
 * environment systemd gives (env, may be NULL). -PS_E_NOTFOUND when there is none. */
int apache_debian_envvars(int rootfd, char *const *env, struct apache_envvars *ret);

/* The layout a unit's Apache uses: apache2* Debian, httpd* RHEL; else the one found. */
enum apache_layout apache_layout_of_unit(int rootfd, const char *unit);
/* The main configuration file of a layout ("/etc/apache2/apache2.conf"). */
const char *apache_main_file(enum apache_layout layout);

/* Who Apache's children run as, from the configuration files alone, never running a program
 * (Debian: envvars' APACHE_RUN_USER/APACHE_RUN_GROUP through apache2.conf's User/Group; RHEL:
 * httpd.conf). -PS_E_NOTFOUND without the layout's main file; -PS_E_INVALID when User is not
 * set or names an undefined variable, with the reason ("FILE:LINE: ...") in *ret_reason. */
int apache_run_user(int rootfd, enum apache_layout layout, char **ret_user, char **ret_group, char **ret_reason);
