/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "privdrop.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

int child_isolate(int out_fd, int result_fd)
{
        if (setsid() < 0)
                return -errno;
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                return -errno;
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        signal(sig, SIG_DFL);
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);

        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0)
                return -errno;
        /* Move the pipes above 3 first so that the dup2s below cannot clobber them. */
        int out = fcntl(out_fd, F_DUPFD_CLOEXEC, 10), res = fcntl(result_fd, F_DUPFD_CLOEXEC, 10);
        if (out < 0 || res < 0)
                return -errno;
        if (dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 || dup2(res, 3) < 0)
                return -errno;
        if (syscall(SYS_close_range, 4U, ~0U, 0) < 0)
                for (int fd = 4; fd < 65536; fd++)
                        close(fd);
        return 0;
}

int child_limits(unsigned cpu_seconds, unsigned long long as_bytes)
{
        struct rlimit core = {0, 0}, cpu = {cpu_seconds, cpu_seconds + 1},
                      fsize = {64ULL << 20, 64ULL << 20}, as = {as_bytes, as_bytes};
        if (setrlimit(RLIMIT_CORE, &core) < 0 || setrlimit(RLIMIT_CPU, &cpu) < 0 ||
            setrlimit(RLIMIT_FSIZE, &fsize) < 0)
                return -errno;
        if (as_bytes && setrlimit(RLIMIT_AS, &as) < 0)
                return -errno;
        return 0;
}

/* This process's capability sets; the header is what capset needs back. */
static int caps_get(struct __user_cap_header_struct *h, struct __user_cap_data_struct d[2])
{
        *h = (struct __user_cap_header_struct){.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        return syscall(SYS_capget, h, d) < 0 ? -errno : 0;
}

static bool caps_empty(void)
{
        struct __user_cap_header_struct h;
        struct __user_cap_data_struct d[2];
        if (caps_get(&h, d) < 0)
                return false;
        return !d[0].effective && !d[1].effective && !d[0].permitted && !d[1].permitted && !d[0].inheritable &&
               !d[1].inheritable;
}

static int privdrop(const struct ps_user *u, gid_t primary, const gid_t *groups, size_t n, gid_t forbidden_gid,
                    const char **ret_step);

int privdrop_clear_inheritable(void)
{
        struct __user_cap_header_struct h;
        struct __user_cap_data_struct d[2];
        int r = caps_get(&h, d);
        if (r < 0)
                return r;
        if (!d[0].inheritable && !d[1].inheritable)
                return 0;
        d[0].inheritable = d[1].inheritable = 0;
        return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

int privdrop_to(const struct ps_user *u, gid_t forbidden_gid, const char **ret_step)
{
        return privdrop(u, u->gid, NULL, 0, forbidden_gid, ret_step);
}

int privdrop_to_groups(const struct ps_user *u, const gid_t *groups, size_t n, const char **ret_step)
{
        return privdrop(u, groups[0], groups, n, (gid_t)-1, ret_step);
}

/* Tries setresuid(0,0,0) in a throwaway child, true when it failed. In the probe's transient
 * unit a copied SystemCallFilter=~@privileged kills the caller with SIGSYS instead of failing
 * the call: that answers the question too, and must not end the probe. */
static bool cannot_become_root(void)
{
        pid_t pid = fork();
        if (pid < 0)
                return false;
        if (pid == 0) {
                prctl(PR_SET_DUMPABLE, 0); /* no core dump for that SIGSYS */
                _exit(setresuid(0, 0, 0) < 0 ? 0 : 1);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return false;
        return (WIFEXITED(status) && WEXITSTATUS(status) == 0) || (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
}

int privdrop_verify(uid_t uid, gid_t gid, gid_t forbidden_gid, const char **ret_step)
{
        errno = 0;
        uid_t ru, eu, su;
        gid_t rg, eg, sg;
        STEP(getresuid(&ru, &eu, &su) == 0 && ru == uid && eu == uid && su == uid, "verify uids");
        STEP(getresgid(&rg, &eg, &sg) == 0 && rg == gid && eg == gid && sg == gid, "verify gids");
        gid_t now[256];
        int k = getgroups(ELEMENTSOF(now), now);
        STEP(k >= 0, "getgroups");
        for (int i = 0; i < k; i++) {
                errno = 0;
                STEP(now[i] != 0, "supplementary group 0 left");
                STEP(now[i] != forbidden_gid, "deploy group left in the supplementary groups");
        }
        errno = 0;
        STEP(cannot_become_root(), "setresuid(0,0,0) succeeded");
        errno = 0;
        STEP(caps_empty(), "capabilities left");
        return 0;
}

static int privdrop(const struct ps_user *u, gid_t primary, const gid_t *groups, size_t n, gid_t forbidden_gid,
                    const char **ret_step)
{
        errno = 0;
        STEP(u->uid != 0 && primary != 0, "refusing uid or gid 0");
        if (groups)
                STEP(setgroups(n, groups) == 0, "setgroups");
        else
                STEP(initgroups(u->name, u->gid) == 0, "initgroups");
        STEP(setresgid(primary, primary, primary) == 0, "setresgid");
        STEP(setresuid(u->uid, u->uid, u->uid) == 0, "setresuid");
        int r = privdrop_verify(u->uid, primary, forbidden_gid, ret_step);
        if (r < 0)
                return r;
        STEP(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "PR_SET_NO_NEW_PRIVS");
        STEP(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "verify NO_NEW_PRIVS");
        return 0;
}
