/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: Apache's configuration as files, read and never run: Debian's envvars the way
 * apache2ctl sources it (envvars.h), and the enabled configuration as httpd reads it at start
 * (apache-conf.h), reduced to what decides who runs Python and with which paths; here, what
 * pyshare asks of them: who Apache's children run as, which libpython mod_wsgi.so links.
 * Everything is read below a root fd, so it works on the host and on an image. */
#pragma once
#include "apache-conf.h"
#include "envvars.h"
#include "util.h"

/* Splits a python-path or WSGIPythonPath value the way mod_wsgi does (at ':'). */
char **apache_split_python_path(const char *value);

/* The libpython that the shared object at path (below rootfd) links, from its DT_NEEDED
 * entries ("libpython3.11.so.1.0"), read from the ELF file without loading it. -ENOENT when
 * the file is missing or links none, -EINVAL when it is not a 64-bit little-endian ELF file. */
int apache_elf_libpython(int rootfd, const char *path, char **ret);

/* The layout a unit's Apache uses: apache2* Debian, httpd* RHEL; else the one found. */
enum apache_layout apache_layout_of_unit(int rootfd, const char *unit);

/* Who Apache's children run as, from the configuration files alone, never running a program
 * (Debian: envvars' APACHE_RUN_USER/APACHE_RUN_GROUP through apache2.conf's User/Group; RHEL:
 * httpd.conf). -PS_E_NOTFOUND without the layout's main file; -PS_E_INVALID when User is not
 * set or names an undefined variable, with the reason ("FILE:LINE: ...") in *ret_reason. */
int apache_run_user(int rootfd, enum apache_layout layout, char **ret_user, char **ret_group, char **ret_reason);
