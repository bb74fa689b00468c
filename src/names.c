/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "names.h"

static bool is_lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool app_name_valid(const char *s)
{
        if (!s || !is_lower_or_digit(s[0]))
                return false;
        size_t n = 1;
        for (; s[n]; n++) {
                if (!is_lower_or_digit(s[n]) && s[n] != '_' && s[n] != '-')
                        return false;
                if (n >= APP_NAME_MAX)
                        return false;
        }
        return true;
}

bool user_name_valid(const char *s)
{
        if (!s || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return false;
        size_t n = 1;
        for (; s[n]; n++) {
                if (!is_lower_or_digit(s[n]) && s[n] != '_' && s[n] != '-')
                        return false;
                if (n >= 32)
                        return false;
        }
        return true;
}

static bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

bool module_name_valid(const char *s)
{
        if (!s || !*s || strlen(s) > 200)
                return false;
        bool at_start = true;
        for (const char *p = s; *p; p++) {
                if (at_start) {
                        if (!ident_start(*p))
                                return false;
                        at_start = false;
                } else if (*p == '.')
                        at_start = true;
                else if (!ident_start(*p) && !(*p >= '0' && *p <= '9'))
                        return false;
        }
        return !at_start;
}

int unit_name_normalize(const char *s, char **ret)
{
        if (!s || !*s || strlen(s) > 240)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == ':' || c == '_' || c == '.' || c == '@' || c == '-'))
                        return -EINVAL;
        }
        if (s[0] == '.' || s[0] == '-' || s[0] == '@')
                return -EINVAL;
        static const char *const other_types[] = {".socket", ".target", ".timer", ".mount", ".path",
                                                  ".slice", ".scope", ".device", ".swap", ".automount"};
        for (size_t i = 0; i < ELEMENTSOF(other_types); i++)
                if (endswith(s, other_types[i]))
                        return -EINVAL;
        if (endswith(s, ".service")) {
                if (strlen(s) == strlen(".service") || s[strlen(s) - strlen(".service") - 1] == '@')
                        return -EINVAL;
                *ret = xstrdup(s);
        } else {
                if (s[strlen(s) - 1] == '@')
                        return -EINVAL;
                *ret = xasprintf("%s.service", s);
        }
        return 0;
}

static bool safe_path_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == '+' || c == '@' || c == '-' || c == '/';
}

/* Components of a normalised path: no empty, "." or ".." component. */
static bool components_ok(const char *s)
{
        const char *p = s;
        while (*p) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t)(slash - p) : strlen(p);
                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.') || n > 255)
                        return false;
                if (!slash)
                        break;
                p = slash + 1;
                if (!*p)
                        return false;
        }
        return true;
}

bool path_safe_absolute(const char *s)
{
        if (!s || s[0] != '/' || strlen(s) > 1024)
                return false;
        for (const char *p = s; *p; p++)
                if (!safe_path_char(*p))
                        return false;
        if (strcmp(s, "/") == 0)
                return true;
        return components_ok(s + 1);
}

bool path_safe_relative(const char *s)
{
        if (!s || !*s || s[0] == '/' || strlen(s) > 1024)
                return false;
        for (const char *p = s; *p; p++)
                if (!safe_path_char(*p))
                        return false;
        return components_ok(s);
}

void mode_string(mode_t m, char out[11])
{
        out[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : '-';
        static const char rwx[] = "rwxrwxrwx";
        for (int i = 0; i < 9; i++)
                out[1 + i] = (m & (0400 >> i)) ? rwx[i] : '-';
        if (m & S_ISUID)
                out[3] = (m & S_IXUSR) ? 's' : 'S';
        if (m & S_ISGID)
                out[6] = (m & S_IXGRP) ? 's' : 'S';
        if (m & S_ISVTX)
                out[9] = (m & S_IXOTH) ? 't' : 'T';
        out[10] = 0;
}
