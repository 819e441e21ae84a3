/* Make eflomal reproducible: its sampler seeds itself from /dev/urandom and
 * has no seed option. Preloaded into the eflomal process, this fopen() hands
 * it the file named by ALGHARB_SEED_BYTES (bytes drawn from the configured
 * seed) instead. Every other path goes to the real fopen(). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

FILE *fopen(const char *path, const char *mode) {
    static FILE *(*real_fopen)(const char *, const char *) = NULL;
    if (!real_fopen) real_fopen = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen");
    const char *seed_bytes = getenv("ALGHARB_SEED_BYTES");
    if (seed_bytes && path && strcmp(path, "/dev/urandom") == 0) return real_fopen(seed_bytes, mode);
    return real_fopen(path, mode);
}
