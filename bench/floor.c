/* floor: the least a no-op `pyshare repair` must read, for the benchmark's floor.
 *
 *   floor DIR        walk DIR, print "N entries"
 *   floor -l DIR     also print one line per entry (path, type, mode, owner, ACLs), for
 *                    comparing trees: sort the output and diff it
 *
 * For each entry, relative to its parent's fd: one statx(AT_SYMLINK_NOFOLLOW), then for
 * regular files and directories lgetxattr("/proc/self/fd/PARENT/NAME", system.posix_acl_access)
 * and, for directories, system.posix_acl_default; directories are entered with
 * openat(O_DIRECTORY|O_NOFOLLOW) and read with getdents64 (d_type is not trusted: the statx
 * says what the entry is).  Single-threaded, changes nothing, memory proportional to depth.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

struct dirent64_raw {
        uint64_t d_ino;
        int64_t d_off;
        unsigned short d_reclen;
        unsigned char d_type;
        char d_name[];
};

#define STATX_WANT (STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID | STATX_INO | STATX_NLINK)
#define MAX_DEPTH 4096

static unsigned long long entries;
static int list;
static char relpath[8192];

static void die(const char *what, const char *name)
{
        fprintf(stderr, "floor: %s %s: %s\n", what, name, strerror(errno));
        exit(1);
}

/* "u::rwx,u:33:r-x,g::rwx,g:995:rwx,m::rwx,o::---" from the kernel's xattr format. */
static void print_acl(const unsigned char *b, ssize_t n)
{
        if (n < 0) {
                fputs("-", stdout);
                return;
        }
        for (ssize_t off = 4; off + 8 <= n; off += 8) {
                unsigned tag = b[off] | b[off + 1] << 8, perm = b[off + 2] | b[off + 3] << 8;
                uint32_t id;
                memcpy(&id, b + off + 4, 4);
                const char *t = tag == 1 ? "u" : tag == 2 ? "u" : tag == 4 ? "g" : tag == 8 ? "g"
                                : tag == 0x10 ? "m" : "o";
                printf("%s%s:", off > 4 ? "," : "", t);
                if (tag == 2 || tag == 8)
                        printf("%u", id);
                printf(":%c%c%c", perm & 4 ? 'r' : '-', perm & 2 ? 'w' : '-', perm & 1 ? 'x' : '-');
        }
}

static ssize_t get_acl(int fd, const char *proc, const char *name, unsigned char *buf,
                       size_t size)
{
        ssize_t n = fd >= 0 ? fgetxattr(fd, name, buf, size) : lgetxattr(proc, name, buf, size);
        if (n < 0 && errno != ENODATA)
                die("lgetxattr", proc);
        return n;
}

/* Look at one entry: its statx is done; read its ACLs through the parent's fd. */
static void visit(int pfd, const char *name, const struct statx *stx, size_t plen)
{
        unsigned char acc[256], def[256];
        ssize_t na = -1, nd = -1;
        char proc[PATH_MAX];
        int isdir = S_ISDIR(stx->stx_mode);

        entries++;
        if (isdir || S_ISREG(stx->stx_mode)) {
                /* The top is read through its own fd (lgetxattr on /proc/self/fd/N would look
                 * at the magic link itself). */
                int self = pfd < 0 ? atoi(name) : -1;
                snprintf(proc, sizeof proc, "/proc/self/fd/%d/%s", pfd, name);
                na = get_acl(self, proc, "system.posix_acl_access", acc, sizeof acc);
                if (isdir)
                        nd = get_acl(self, proc, "system.posix_acl_default", def, sizeof def);
        }
        if (!list)
                return;
        relpath[plen] = '\0';
        if (S_ISLNK(stx->stx_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(pfd, name, target, sizeof target - 1);
                target[n < 0 ? 0 : n] = '\0';
                printf("%s\tl\t-> %s\n", plen ? relpath : ".", target);
                return;
        }
        printf("%s\t%c\t%04o\t%u\t%u\t%u\t", plen ? relpath : ".",
               isdir ? 'd' : S_ISREG(stx->stx_mode) ? 'f' : '?', stx->stx_mode & 07777,
               stx->stx_uid, stx->stx_gid, isdir ? 1 : stx->stx_nlink);
        print_acl(acc, na);
        fputs("\t", stdout);
        print_acl(def, nd);
        fputs("\n", stdout);
}

static void walk(int dfd, size_t plen, int depth)
{
        char buf[32768] __attribute__((aligned(8)));

        if (depth > MAX_DEPTH) {
                errno = ELOOP;
                die("too deep:", relpath);
        }
        for (;;) {
                long n = syscall(SYS_getdents64, dfd, buf, sizeof buf);
                if (n < 0)
                        die("getdents64", relpath);
                if (n == 0)
                        return;
                for (long off = 0; off < n;) {
                        struct dirent64_raw *d = (struct dirent64_raw *)(buf + off);
                        const char *name = d->d_name;
                        struct statx stx;
                        size_t clen = plen;

                        off += d->d_reclen;
                        if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
                                continue;
                        if (statx(dfd, name, AT_SYMLINK_NOFOLLOW, STATX_WANT, &stx) < 0)
                                die("statx", name);
                        if (list) {
                                clen += snprintf(relpath + plen, sizeof relpath - plen, "%s%s",
                                                 plen ? "/" : "", name);
                                if (clen >= sizeof relpath)
                                        die("path too long:", relpath);
                        }
                        visit(dfd, name, &stx, clen);
                        if (S_ISDIR(stx.stx_mode)) {
                                int cfd = openat(dfd, name,
                                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                if (cfd < 0)
                                        die("openat", name);
                                walk(cfd, clen, depth + 1);
                                close(cfd);
                        }
                }
        }
}

int main(int argc, char **argv)
{
        int opt;
        while ((opt = getopt(argc, argv, "l")) != -1) {
                if (opt == 'l')
                        list = 1;
                else
                        goto usage;
        }
        if (optind != argc - 1)
                goto usage;

        int top = open(argv[optind], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (top < 0)
                die("open", argv[optind]);
        struct statx stx;
        if (statx(top, "", AT_EMPTY_PATH, STATX_WANT, &stx) < 0)
                die("statx", argv[optind]);
        char self[16];
        snprintf(self, sizeof self, "%d", top);
        visit(-1, self, &stx, 0);
        walk(top, 0, 0);
        close(top);
        if (list)
                fflush(stdout);
        else
                printf("%llu entries\n", entries);
        return 0;
usage:
        fprintf(stderr, "usage: floor [-l] DIR\n");
        return 2;
}
