/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 4.1: the venv's tree on this system — the prefix, the ACL support check, applying
 * pyshare's owners, modes and ACLs, the search grants on the ancestors, the stats as text and
 * JSON, and what an unreadable entry means for the user. */
#pragma once
#include "acl.h"
#include "app.h"
#include "output.h"
#include "perms.h"
#include "prefix.h"
#include "util.h"

/* The nearest existing ancestor of the prefix must support ACLs; checked before anything is
 * created so that a filesystem without them leaves nothing behind. */
int check_acl_support(const struct ctx *x, const char *prefix);
/* The prefix through prefix_open, a refusal logged once (prefix_problem_text). */
int open_prefix(const struct ctx *x, const char *prefix, enum prefix_open_mode mode, int *ret_fd);
/* Creates missing components root:root 0755; an existing prefix keeps its owner and mode. */
int prepare_prefix(const struct ctx *x, const char *prefix, int *ret_fd);
/* Applies the tree below PREFIX/APP and grants the user search permission above it. */
int apply_tree(const struct ctx *x, const struct app *a, struct perms_stats *st);
/* The tree's owners and readers for the app: more holds the other readers' uids. */
void app_perms_target(const struct app *a, uid_t more[ACL_MORE_USERS_MAX], struct perms_target *ret);
/* What each of the app's users cannot read in its venv (host only), as problems. layout: a
 * dry perms_apply of the same tree for the app's readers that succeeded, or NULL; when it
 * proves every entry readable, the tree is not walked again. */
void unreadable_problems(const struct ctx *x, const struct app *a, const struct perms_stats *layout, char ***problems);

void print_perms_stats(const struct ctx *x, const struct perms_stats *st);
void json_perms_stats(struct json *j, const struct perms_stats *st);
/* An entry the service user cannot read, as a sentence with the fix. */
char *describe_finding(const struct ctx *x, const struct app *a, const struct perms_finding *f);
/* The same for one of the app's users (the first, or a reader). */
char *describe_finding_of(const struct ctx *x, const struct app *a, const struct ps_user *u,
                          const struct perms_finding *f);
