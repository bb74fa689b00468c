/* Writes an EnvironmentFile with pyshare's own encoder (src/envfile.c) from NUL-separated values
 * on stdin: value i becomes V<i>="..."; each refused value is named on stdout. The end-to-end
 * test reads the file back with systemd's parser and compares. */
#include "envfile.h"

#include <stdio.h>

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: envcheck OUTFILE <values\n");
                return 2;
        }
        struct buf in = {0}, out = {0};
        char tmp[65536];
        size_t k;
        while ((k = fread(tmp, 1, sizeof(tmp), stdin)) > 0)
                buf_append(&in, tmp, k);
        size_t i = 0;
        for (size_t off = 0; off < in.len; i++) {
                const char *v = in.p + off;
                size_t n = strnlen(v, in.len - off);
                char key[32];
                snprintf(key, sizeof(key), "V%zu", i);
                if (env_encode(&out, key, v) < 0)
                        printf("refused %zu\n", i);
                off += n + 1;
        }
        FILE *f = fopen(argv[1], "we");
        if (!f || fwrite(out.p ? out.p : "", 1, out.len, f) != out.len || fclose(f) != 0) {
                perror(argv[1]);
                return 1;
        }
        return 0;
}
