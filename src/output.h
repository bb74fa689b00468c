/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 1: JSON output (one document on stdout for --json). */
#pragma once
#include "util.h"

#define JSON_MAX_DEPTH 32

struct json {
        struct buf b;
        int depth;
        bool need_comma[JSON_MAX_DEPTH];
};

/* key is NULL for the top level and for array elements. */
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
/* A NULL value is written as null. Invalid UTF-8 is written as U+FFFD. */
void json_str(struct json *j, const char *key, const char *value);
void json_bool(struct json *j, const char *key, bool value);
void json_int(struct json *j, const char *key, long long value);
void json_strv(struct json *j, const char *key, char *const *l);
/* Ends the document and hands it to json_finish, which prints it. */
void json_flush(struct json *j);

/* Why a --json command failed: the first error it said, its class and its exit status. */
struct json_failure {
        const char *command, *app;
        const char *message;    /* NULL: see stderr */
        const char *cause;      /* the class: problem, usage, invalid, not-found, not-root, cannot-write */
        const char *errno_text; /* strerror of an errno, else NULL */
        int exit_status;
};
/* Prints the document on stdout, with an "error" object when f is not NULL: the verb's object
 * gets it as its last member; without one, it is the document. */
void json_finish(const struct json_failure *f);
void json_escape(struct buf *b, const char *s);
/* s for a terminal: control characters (newline, ESC, ...) as \xNN, so that text from imported
 * code cannot forge lines or move the cursor. NULL stays NULL. */
char *printable(const char *s);
