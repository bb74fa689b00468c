/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: httpd's enabled configuration (apache2.conf or httpd.conf with what they include)
 * read as httpd reads it at start: Include/IncludeOptional, <IfModule>, <IfDefine>,
 * <VirtualHost>, ${VAR}, reduced to what decides who runs Python and with which paths (User,
 * Group, LoadModule, the WSGI directives, PassEnv). Read below a root fd, never run. */
#pragma once
#include "apache-text.h"

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

/* The main configuration file of a layout ("/etc/apache2/apache2.conf"). */
const char *apache_main_file(enum apache_layout layout);
