/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 1: EnvironmentFile encoding, and a reader with the semantics of systemd's parser. */
#pragma once
#include "util.h"

/* The longest value pyshare writes into an EnvironmentFile. */
#define ENV_VALUE_MAX (32 * 1024)
/* 0 when the value may be written: valid UTF-8, no control characters (newline, CR, tab, DEL
 * and the C0/C1 ranges), at most ENV_VALUE_MAX bytes; -EINVAL otherwise. */
int env_value_check(const char *value);
/* 0 when key is a shell-style variable name: [A-Za-z_][A-Za-z0-9_]*. */
bool env_key_valid(const char *key);
/* Appends KEY="value\n" with " \ ` $ escaped to b; -EINVAL for a bad key or value. */
int env_encode(struct buf *b, const char *key, const char *value);
/* Parses an EnvironmentFile as systemd does (quotes, escapes, comments, continuation lines;
 * lines with an invalid key such as "export X=1" are dropped, as systemd drops them). Returns
 * a list of "KEY=VALUE" in file order; later duplicates are kept (the last one wins). */
int env_parse(const char *text, size_t len, char ***ret);
/* The value of key in a list from env_parse (the last assignment), or NULL. */
const char *env_get(char *const *env, const char *key);
