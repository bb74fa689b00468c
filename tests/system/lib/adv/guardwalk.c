/* The guard's walk of a big tree (/root holds whole toolchains: a quarter of a million
 * entries, gigabytes): one line per entry, each directory's entries in name order, with
 *
 *   path type uid:gid mode nlink inode ctime a=ACCESS-ACL d=DEFAULT-ACL [-> target]
 *
 * The ACLs are the raw xattrs in hex ("-" for none). Contents are not read (that would take
 * minutes): any write to a file moves its ctime, and so do chmod, chown, setxattr, truncate,
 * utimensat, link and rename; nothing a process can call sets a ctime back. Equal lines, the
 * same inode and the same ctime, mean the same contents, owner, mode and ACLs. Never follows a symlink, never opens anything but a
 * directory, and does not cross into another filesystem (it lists the mount point). A path
 * byte outside printable ASCII, a space or a backslash is written as \xHH.
 *
 *   guardwalk [--shard I/N] DIR...
 *
 * --shard I/N lists only the I-th of N shares of the entries (the walk itself goes everywhere),
 * so that N processes on N cores share the work; together their listings hold every entry
 * once, and each one's listing is as stable as the whole.
 *
 * Exits 1 when something could not be read (the line says what), so a guard never compares
 * two equally broken listings. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MAX_DEPTH 256

static int failed;
static unsigned shard_i, shard_n = 1;

struct name {
        char *s;
        unsigned char type;
};

static void put_path(const char *p)
{
        for (const unsigned char *c = (const unsigned char *)p; *c; c++) {
                if (*c <= ' ' || *c >= 0x7f || *c == '\\')
                        printf("\\x%02x", *c);
                else
                        putchar(*c);
        }
}

static void fail(const char *path, const char *what)
{
        printf("error ");
        put_path(path);
        printf(" %s: %s\n", what, strerror(errno));
        failed = 1;
}

/* The xattr NAME of the entry NAME of the current directory (fchdir: one path component). */
static void put_acl(const char *tag, const char *name, const char *xattr)
{
        unsigned char buf[4096];
        ssize_t n = lgetxattr(name, xattr, buf, sizeof(buf));
        printf(" %s=", tag);
        if (n < 0) {
                printf(errno == ENODATA || errno == ENOTSUP ? "-" : "?%d", errno);
                return;
        }
        for (ssize_t i = 0; i < n; i++)
                printf("%02x", buf[i]);
}

static char kind(mode_t m)
{
        switch (m & S_IFMT) {
        case S_IFDIR: return 'd';
        case S_IFREG: return 'f';
        case S_IFLNK: return 'l';
        case S_IFIFO: return 'p';
        case S_IFSOCK: return 's';
        case S_IFCHR: return 'c';
        case S_IFBLK: return 'b';
        default: return '?';
        }
}

static int by_name(const void *a, const void *b)
{
        return strcmp(((const struct name *)a)->s, ((const struct name *)b)->s);
}

static void walk(int dfd, char *path, size_t len, dev_t dev, int depth);

/* One entry NAME of the directory DFD (the current directory), PATH its full path; listed when
 * MINE, walked into (whoever lists it) when it is a directory. */
static void entry(int dfd, const char *name, unsigned char type, bool mine, char *path, size_t len, dev_t dev,
                  int depth)
{
        if (!mine && type != DT_DIR && type != DT_UNKNOWN)
                return;
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                fail(path, "stat");
                return;
        }
        if (!mine)
                goto descend;
        put_path(path);
        printf(" %c %u:%u %04o n%lu i%lu c%lld.%09ld", kind(st.st_mode), st.st_uid, st.st_gid, st.st_mode & 07777,
               (unsigned long)st.st_nlink, (unsigned long)st.st_ino, (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
                printf(" dev%u,%u", major(st.st_rdev), minor(st.st_rdev));
        if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
                target[n < 0 ? 0 : n] = 0;
                printf(" -> ");
                put_path(target);
                putchar('\n');
                return;
        }
        put_acl("a", name, "system.posix_acl_access");
        if (S_ISDIR(st.st_mode))
                put_acl("d", name, "system.posix_acl_default");
        putchar('\n');
descend:
        if (!S_ISDIR(st.st_mode) || st.st_dev != dev)
                return;
        if (depth >= MAX_DEPTH) {
                printf("too deep ");
                put_path(path);
                putchar('\n');
                failed = 1;
                return;
        }
        int c = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (c < 0) {
                fail(path, "open");
                return;
        }
        walk(c, path, len, dev, depth + 1);
        if (fchdir(dfd) < 0)
                fail(path, "fchdir back");
}

/* The entries of the directory DFD (taken over and closed), PATH[0..LEN) its path. */
static void walk(int dfd, char *path, size_t len, dev_t dev, int depth)
{
        DIR *d = fdopendir(dfd);
        if (!d) {
                fail(path, "fdopendir");
                close(dfd);
                return;
        }
        if (fchdir(dfd) < 0) {
                fail(path, "fchdir");
                closedir(d);
                return;
        }
        struct name *names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *e;
        errno = 0;
        while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                        continue;
                if (n == cap) {
                        cap = cap ? 2 * cap : 64;
                        names = realloc(names, cap * sizeof(*names));
                        if (!names) {
                                perror("realloc");
                                exit(2);
                        }
                }
                names[n].s = strdup(e->d_name);
                names[n++].type = e->d_type;
        }
        if (errno)
                fail(path, "readdir");
        qsort(names, n, sizeof(*names), by_name);
        /* the shares take turns within each directory, from a start that differs by directory */
        size_t turn = 0;
        for (size_t i = 0; i < len; i++)
                turn = turn * 31 + (unsigned char)path[i];
        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(names[i].s);
                if (len + 1 + l >= 65536) {
                        printf("too long ");
                        put_path(path);
                        putchar('\n');
                        failed = 1;
                } else {
                        path[len] = '/';
                        memcpy(path + len + 1, names[i].s, l + 1);
                        entry(dfd, names[i].s, names[i].type, (turn + i) % shard_n == shard_i, path, len + 1 + l, dev,
                              depth);
                        path[len] = 0;
                }
                free(names[i].s);
        }
        free(names);
        closedir(d);
}

int main(int argc, char **argv)
{
        static char path[65536];
        static char obuf[1 << 20];
        setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
        int first = 1;
        if (argc > 2 && strcmp(argv[1], "--shard") == 0) {
                if (sscanf(argv[2], "%u/%u", &shard_i, &shard_n) != 2 || shard_n == 0 || shard_i >= shard_n) {
                        fprintf(stderr, "guardwalk: --shard I/N with I < N\n");
                        return 2;
                }
                first = 3;
        }
        for (int i = first; i < argc; i++) {
                size_t len = strlen(argv[i]);
                if (len >= sizeof(path)) {
                        fprintf(stderr, "guardwalk: path too long\n");
                        return 2;
                }
                memcpy(path, argv[i], len + 1);
                /* the top itself, through its parent, like any other entry */
                char *slash = strrchr(path, '/');
                if (!slash || slash == path) {
                        int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        struct stat st;
                        if (root < 0 || fchdir(root) < 0 || fstat(root, &st) < 0) {
                                fail("/", "open");
                                continue;
                        }
                        if (len == 1) { /* "/" itself: no entry line, just its contents */
                                walk(root, path, 0, st.st_dev, 0);
                                continue;
                        }
                        entry(root, path + 1, DT_UNKNOWN, shard_i == 0, path, len, st.st_dev, 0);
                        close(root);
                        continue;
                }
                *slash = 0;
                int parent = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                *slash = '/';
                struct stat top;
                if (parent < 0 || fchdir(parent) < 0 || fstatat(parent, slash + 1, &top, AT_SYMLINK_NOFOLLOW) < 0) {
                        fail(path, "open");
                        if (parent >= 0)
                                close(parent);
                        continue;
                }
                entry(parent, slash + 1, DT_UNKNOWN, shard_i == 0, path, len, top.st_dev, 0);
                close(parent);
        }
        if (fflush(stdout) != 0)
                return 2;
        return failed;
}
