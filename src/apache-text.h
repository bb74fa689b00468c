/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: what Debian's envvars (envvars.c) and httpd's configuration (apache-conf.c) share
 * as text: the caps on what is read, logical lines (a backslash before the newline joins the
 * next line, in sh and in httpd alike), the list of problems kept within its cap, and the
 * characters of a name. */
#pragma once
#include "util.h"

/* Caps: a hostile or broken configuration costs bounded time and memory. */
#define APACHE_MAX_FILE_SIZE (1024 * 1024)
#define APACHE_MAX_FILES 1024
#define APACHE_MAX_TOTAL_SIZE (16 * 1024 * 1024)
#define APACHE_MAX_DEPTH 16
#define APACHE_MAX_LINES 200000
#define APACHE_MAX_ITEMS 4096

/* Splits text into logical lines. *ret_lineno is the number of the first physical line. */
struct line_reader {
        const char *p, *end;
        unsigned next_line;
};
/* The next logical line (to free), NULL at the end. */
char *apache_next_line(struct line_reader *lr, unsigned *ret_lineno);

/* Appends "FILE:LINE: message" to the list *l, within APACHE_MAX_ITEMS. */
void apache_add_problem(char ***l, const char *file, unsigned line, const char *fmt, ...) _printf_(4, 5);
/* Appends an owned message, within the cap (freed when over it). */
void apache_push_problem(char ***l, char *msg);

static inline bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static inline bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
static inline bool is_blank(char c) { return c == ' ' || c == '\t'; }
