/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pip.h"
#include "privdrop.h"
#include "probe.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

int pip_run(const struct ps_user *u, gid_t gid, const char *pip, char *const *args, const char *chroot_dir,
            int timeout_ms, bool capture, char **ret_output)
{
        int pipefd[2] = {-1, -1};
        if (capture && pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return -errno;
        fflush(NULL);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int out = capture ? pipefd[1] : fcntl(1, F_DUPFD_CLOEXEC, 10);
                int err = capture ? pipefd[1] : fcntl(2, F_DUPFD_CLOEXEC, 10);
                int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (setsid() < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || devnull < 0 || out < 0 || err < 0 ||
                    dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
                        _exit(121);
                for (int fd = 3; fd < 1024; fd++)
                        close(fd);
                /* In an image, pip is the image's (its paths, its Python), as in an image build. */
                if (chroot_dir && (chroot(chroot_dir) < 0 || chdir("/") < 0)) {
                        fprintf(stderr, "pyshare: cannot chroot to %s: %s\n", chroot_dir, strerror(errno));
                        _exit(122);
                }
                const char *step = NULL;
                gid_t groups[] = {gid};
                if (privdrop_to_groups(u, groups, 1, &step) < 0) {
                        fprintf(stderr, "pyshare: cannot become %s: %s\n", u->name, step);
                        _exit(122);
                }
                /* Changing ids clears the parent-death signal. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(122);
                if (chdir("/") < 0)
                        _exit(122);
                umask(002);
                char *env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/nonexistent", "LANG=C.UTF-8",
                               "PIP_NO_INPUT=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_CACHE_DIR=1",
                               "PYTHONDONTWRITEBYTECODE=", NULL};
                size_t n = strv_length(args);
                char **argv = xcalloc(n + 2, sizeof(char *));
                argv[0] = (char *)pip;
                for (size_t i = 0; i < n; i++)
                        argv[1 + i] = args[i];
                execve(pip, argv, env);
                fprintf(stderr, "pyshare: cannot run %s: %s\n", pip, strerror(errno));
                _exit(127);
        }

        struct buf out = {0};
        long long deadline = now_ms() + timeout_ms;
        bool timed_out = false;
        if (capture) {
                close(pipefd[1]);
                timed_out = read_until(pipefd[0], deadline, &out, 64 * 1024) == -ETIMEDOUT;
                close(pipefd[0]);
        }
        int status = 0;
        for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);
                if (w == pid)
                        break;
                if (now_ms() >= deadline) {
                        timed_out = true;
                        kill(-pid, SIGKILL);
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        break;
                }
                usleep(20 * 1000);
        }
        kill(-pid, SIGKILL);
        probe_reap_leftovers();
        return command_result(&out, ret_output, timed_out, status);
}
