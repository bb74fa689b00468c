/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "apache.h"
#include "rootfile.h"

#include <elf.h>

char **apache_split_python_path(const char *value)
{
        /* mod_wsgi adds each entry with site.addsitedir, split at ':' on Unix; empty entries
         * are skipped. */
        char **l = xcalloc(1, sizeof(char *));
        _cleanup_free_ char *copy = xstrdup(value ? value : "");
        char *save = NULL;
        for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
                strv_push(&l, p);
        return l;
}

enum apache_layout apache_layout_of_unit(int rootfd, const char *unit)
{
        if (unit && startswith(unit, "apache2"))
                return APACHE_DEBIAN;
        if (unit && startswith(unit, "httpd"))
                return APACHE_RHEL;
        return apache_detect_layout(rootfd);
}


int apache_run_user(int rootfd, enum apache_layout layout, char **ret_user, char **ret_group, char **ret_reason)
{
        if (layout == APACHE_NONE)
                return -PS_E_NOTFOUND;
        struct apache_envvars e = {0};
        _cleanup_strv_ char **env = NULL;
        if (layout == APACHE_DEBIAN) {
                int r = apache_debian_envvars(rootfd, NULL, &e);
                if (r < 0 && r != -PS_E_NOTFOUND)
                        return r;
                env = apache_envvars_exported(&e);
        }
        struct apache_config c = {0};
        int r = apache_config_read(rootfd, layout, env, NULL, &c);
        if (r >= 0 && (strstr(c.user, "${") || strcmp(c.user, "#-1") == 0)) {
                if (ret_reason)
                        *ret_reason = c.user_where ? xasprintf("%s: User %s: the variable is not set", c.user_where, c.user)
                                                   : xstrdup("no User directive in the configuration");
                r = -PS_E_INVALID;
        }
        if (r >= 0) {
                *ret_user = TAKE_PTR(c.user);
                if (ret_group)
                        *ret_group = TAKE_PTR(c.group);
        }
        apache_config_free(&c);
        apache_envvars_free(&e);
        return r;
}

/* ---- which libpython mod_wsgi.so links ---------------------------------------------------- */

/* The file offset of virtual address addr, through the PT_LOAD segments. */
static bool elf_offset(const char *img, size_t len, const Elf64_Ehdr *eh, uint64_t addr, uint64_t *ret)
{
        for (uint16_t i = 0; i < eh->e_phnum; i++) {
                const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff + (size_t)i * sizeof(Elf64_Phdr));
                if (ph->p_type == PT_LOAD && addr >= ph->p_vaddr && addr - ph->p_vaddr < ph->p_filesz) {
                        *ret = ph->p_offset + (addr - ph->p_vaddr);
                        return *ret < len;
                }
        }
        return false;
}

int apache_elf_libpython(int rootfd, const char *path, char **ret)
{
        _cleanup_free_ char *img = NULL;
        size_t len;
        int r = root_read_file(rootfd, path, 64 * 1024 * 1024, &img, &len, NULL);
        if (r < 0)
                return r;
        const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
        if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
            eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > len ||
            (len - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum)
                return -EINVAL;
        const Elf64_Phdr *dyn = NULL;
        for (uint16_t i = 0; i < eh->e_phnum; i++) {
                const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff + (size_t)i * sizeof(Elf64_Phdr));
                if (ph->p_type == PT_DYNAMIC)
                        dyn = ph;
        }
        if (!dyn || dyn->p_offset > len || (len - dyn->p_offset) < dyn->p_filesz)
                return -EINVAL;
        const Elf64_Dyn *d = (const Elf64_Dyn *)(img + dyn->p_offset);
        size_t nd = dyn->p_filesz / sizeof(Elf64_Dyn);
        uint64_t strtab = 0, strsz = 0;
        for (size_t i = 0; i < nd && d[i].d_tag != DT_NULL; i++) {
                if (d[i].d_tag == DT_STRTAB)
                        strtab = d[i].d_un.d_ptr;
                else if (d[i].d_tag == DT_STRSZ)
                        strsz = d[i].d_un.d_val;
        }
        uint64_t stroff;
        if (!strtab || !elf_offset(img, len, eh, strtab, &stroff) || strsz > len - stroff)
                return -EINVAL;
        for (size_t i = 0; i < nd && d[i].d_tag != DT_NULL; i++) {
                if (d[i].d_tag != DT_NEEDED || d[i].d_un.d_val >= strsz)
                        continue;
                const char *name = img + stroff + d[i].d_un.d_val;
                size_t max = strsz - d[i].d_un.d_val;
                if (strnlen(name, max) < max && startswith(name, "libpython")) {
                        *ret = xstrdup(name);
                        return 0;
                }
        }
        return -ENOENT;
}
