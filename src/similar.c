/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "similar.h"

#define NAME_MAX_LEN 255

size_t name_distance(const char *a, const char *b, size_t max)
{
        size_t la = strlen(a), lb = strlen(b);
        if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN || (la > lb ? la - lb : lb - la) > max)
                return max + 1;
        /* Three rows of the optimal-string-alignment table: two back for a swap. */
        size_t rows[3][NAME_MAX_LEN + 1];
        size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
        for (size_t j = 0; j <= lb; j++)
                prev[j] = j;
        for (size_t i = 1; i <= la; i++) {
                cur[0] = i;
                size_t row_min = cur[0];
                for (size_t j = 1; j <= lb; j++) {
                        size_t cost = a[i - 1] != b[j - 1];
                        size_t d = prev[j] + 1;
                        if (cur[j - 1] + 1 < d)
                                d = cur[j - 1] + 1;
                        if (prev[j - 1] + cost < d)
                                d = prev[j - 1] + cost;
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
                                d = prev2[j - 2] + 1;
                        cur[j] = d;
                        if (d < row_min)
                                row_min = d;
                }
                if (row_min > max)
                        return max + 1;
                size_t *t = prev2;
                prev2 = prev;
                prev = cur;
                cur = t;
        }
        return prev[lb] > max ? max + 1 : prev[lb];
}

const char *name_nearest(const char *word, char *const *names)
{
        size_t max = strlen(word) / 3;
        if (max < 1)
                max = 1;
        if (max > 3)
                max = 3;
        const char *best = NULL;
        size_t best_d = max + 1;
        for (size_t i = 0; names && names[i]; i++) {
                size_t d = name_distance(word, names[i], max);
                if (d == 0)
                        return NULL;
                if (d < best_d) {
                        best_d = d;
                        best = names[i];
                }
        }
        return best;
}
