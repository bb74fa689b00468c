/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sandbox.h"
#include "contain.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* Whether id lies in one of the "name:first:count" ranges of an /etc/subuid-style file. */
static bool in_subid_ranges(const char *file, uid_t id)
{
        _cleanup_fclose_ FILE *f = fopen(file, "re");
        if (!f)
                return false;
        char line[512];
        while (fgets(line, sizeof(line), f)) {
                unsigned long long first, count;
                const char *colon = strchr(line, ':');
                if (colon && sscanf(colon, ":%llu:%llu", &first, &count) == 2 && id >= first && id - first < count)
                        return true;
        }
        return false;
}

/* Whether any process has id among its real, effective, saved or file system uids or gids. */
static int id_in_use_by_process(uid_t id, bool *ret)
{
        DIR *d = opendir("/proc");
        if (!d)
                return -errno;
        bool used = false;
        struct dirent *de;
        while (!used && (de = readdir(d))) {
                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                _cleanup_free_ char *path = xasprintf("/proc/%s/status", de->d_name);
                _cleanup_fclose_ FILE *f = fopen(path, "re");
                if (!f)
                        continue; /* gone meanwhile */
                char line[256];
                while (fgets(line, sizeof(line), f)) {
                        unsigned a[4];
                        if ((startswith(line, "Uid:") || startswith(line, "Gid:")) &&
                            sscanf(line + 4, "%u %u %u %u", &a[0], &a[1], &a[2], &a[3]) == 4 &&
                            (a[0] == id || a[1] == id || a[2] == id || a[3] == id))
                                used = true;
                }
        }
        closedir(d);
        *ret = used;
        return 0;
}

int sandbox_pick_id(uid_t *ret_id)
{
        for (uid_t id = SANDBOX_ID_FIRST; id <= SANDBOX_ID_LAST; id++) {
                if (getpwuid(id) || getgrgid((gid_t)id) || in_subid_ranges("/etc/subuid", id) ||
                    in_subid_ranges("/etc/subgid", id))
                        continue;
                bool used = true;
                int r = id_in_use_by_process(id, &used);
                if (r < 0)
                        return r;
                if (!used) {
                        *ret_id = id;
                        return 0;
                }
        }
        return -EUSERS;
}

struct sandbox {
        const char *root_dir;
        uid_t id;
        int ready[2]; /* child → parent: the namespaces exist */
        int go[2];    /* parent → child: the id maps are written */
};

/* No capability now or after execve, even as the namespace's root. */
static int drop_capabilities(const char **ret_step)
{
        errno = 0;
        STEP(prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                              SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED) == 0,
             "set securebits");
        for (unsigned long c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
                STEP(prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == 0, "empty the capability bounding set");
        errno = 0;
        STEP(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == 0, "clear ambient capabilities");
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct d[2] = {{0}};
        STEP(syscall(SYS_capset, &h, d) == 0, "drop capabilities");
        STEP(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "PR_SET_NO_NEW_PRIVS");
        return 0;
}

static int sandbox_child(void *userdata, const char **ret_step)
{
        struct sandbox *s = userdata;
        close(s->ready[0]);
        close(s->go[1]);
        errno = 0;
        /* Root's supplementary groups would stay with the process in the namespace. */
        STEP(setgroups(0, NULL) == 0, "setgroups");
        STEP(unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0, "create a user and mount namespace");
        /* We run in a PID namespace of our own (contain.c): pyshare learns our pid in its own
         * from the host's /proc, still mounted here, to write our id maps. */
        char self[32] = "";
        STEP(readlink("/proc/self", self, sizeof(self) - 1) > 0, "read our pid on the host");
        pid_t host_pid = (pid_t)atoi(self);
        STEP(write(s->ready[1], &host_pid, sizeof(host_pid)) == (ssize_t)sizeof(host_pid), "signal pyshare");
        char c;
        errno = 0;
        STEP(read(s->go[0], &c, 1) == 1, "wait for the id map");
        close(s->ready[1]);
        close(s->go[0]);

        /* The image becomes the whole file system: no way back to the host's root, whatever
         * the program does with chroot() or "..". Mounts stay in this namespace. */
        STEP(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "make the mounts private");
        STEP(mount(s->root_dir, s->root_dir, NULL, MS_BIND | MS_REC, NULL) == 0, "bind-mount the image");
        /* A device node in the image (a 0666 copy of the host's disk) opens nothing; set-uid
         * files give nothing. Mounts below the image get the same. */
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID};
        STEP(mount_setattr(AT_FDCWD, s->root_dir, AT_RECURSIVE, &attr, sizeof(attr)) == 0,
             "mount the image nodev,nosuid");
        STEP(chdir(s->root_dir) == 0, "enter the image");
        STEP(syscall(SYS_pivot_root, ".", ".") == 0, "pivot_root into the image");
        STEP(umount2(".", MNT_DETACH) == 0, "detach the host's root");
        STEP(chdir("/") == 0, "chdir /");
        /* A /tmp of its own, as pip has on the host: nothing a run leaves in the image's /tmp
         * reaches a later one (another app's pip). An image without one gets none. */
        struct stat st;
        if (lstat("/tmp", &st) == 0 && S_ISDIR(st.st_mode))
                STEP(mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") == 0, "mount a /tmp of its own");

        /* From here on the host sees uid and gid s->id. */
        STEP(setresgid(0, 0, 0) == 0, "setresgid");
        STEP(setresuid(0, 0, 0) == 0, "setresuid");
        int r = drop_capabilities(ret_step);
        if (r < 0)
                return r;
        STEP(syscall(SYS_close_range, 3U, ~0U, 0) == 0, "close inherited fds");
        /* Changing ids cleared it: the program ends with pyshare. */
        STEP(prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == 0, "set the parent-death signal");
        return 0;
}

static int write_map(pid_t pid, const char *which, uid_t id)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, which);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        char line[64];
        int n = snprintf(line, sizeof(line), "0 %u 1\n", (unsigned)id);
        if (write(fd, line, (size_t)n) != n)
                return errno ? -errno : -EIO;
        return 0;
}

static int sandbox_parent(void *userdata)
{
        struct sandbox *s = userdata;
        close(s->ready[1]);
        close(s->go[0]);
        s->ready[1] = s->go[0] = -1;
        pid_t pid = 0;
        ssize_t k;
        while ((k = read(s->ready[0], &pid, sizeof(pid))) < 0 && errno == EINTR)
                ;
        if (k != (ssize_t)sizeof(pid) || pid <= 0)
                return 0; /* the child failed and says why in its output */
        int r = write_map(pid, "uid_map", s->id);
        if (r < 0 || (r = write_map(pid, "gid_map", s->id)) < 0)
                return r;
        return write(s->go[1], "g", 1) == 1 ? 0 : -errno;
}

int sandbox_run(char *const argv[], char *const env[], const char *root_dir, uid_t id, int timeout_ms,
                char **ret_output)
{
        struct sandbox s = {.root_dir = root_dir, .id = id, .ready = {-1, -1}, .go = {-1, -1}};
        if (pipe2(s.ready, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(s.go, O_CLOEXEC) < 0) {
                int r = -errno;
                close(s.ready[0]);
                close(s.ready[1]);
                return r;
        }
        const struct run_hooks h = {.child = sandbox_child, .parent = sandbox_parent, .userdata = &s, .env = env};
        int r = run_command_with(argv, &h, timeout_ms, ret_output);
        for (size_t i = 0; i < 2; i++) {
                closep(&s.ready[i]);
                closep(&s.go[i]);
        }
        return r;
}
