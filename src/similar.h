/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 0: which known name a mistyped one probably meant. */
#pragma once
#include "util.h"

/* The edit distance of a and b (insertions, deletions, substitutions and swaps of two
 * neighbours count 1 each), or max + 1 once it exceeds max. Both at most 255 bytes; longer
 * strings count as max + 1. */
size_t name_distance(const char *a, const char *b, size_t max);

/* The name in names closest to word, or NULL when none is within the distance that a typo
 * makes (a third of word's length, at least 1, at most 3) or word itself is one of them. Ties
 * go to the first in names. */
const char *name_nearest(const char *word, char *const *names);
