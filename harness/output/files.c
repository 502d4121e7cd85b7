/* files.c: atomic replacement of the run folder's derived files, whole-file reads, cJSON output. */
#include "files.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

FILE *atomic_open(struct atomic_file *af, const char *path)
{
    snprintf(af->path, sizeof af->path, "%s", path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp", path);
    return af->f = fopen(af->tmp, "w");
}

int atomic_commit(struct atomic_file *af)
{
    int bad = fflush(af->f) != 0 || fsync(fileno(af->f)) != 0;
    bad |= fclose(af->f) != 0;
    af->f = NULL;
    if (bad || rename(af->tmp, af->path) != 0) { remove(af->tmp); return -1; }
    return 0;
}

int json_write_file(const cJSON *doc, const char *path)
{
    struct atomic_file af;
    char *text = cJSON_Print(doc);
    if (!text) return -1;
    if (!atomic_open(&af, path)) { free(text); return -1; }
    fputs(text, af.f);
    fputc('\n', af.f);
    free(text);
    return atomic_commit(&af);
}

char *file_read_all(const char *path, size_t *len, char *why, size_t n)
{
    FILE *f = fopen(path, "r");
    char *text = NULL;
    size_t cap = 0, got;
    *len = 0;
    if (!f) { snprintf(why, n, "%s: %s", path, strerror(errno)); return NULL; }
    do {
        if (*len + 4096 > cap) text = realloc(text, cap = cap * 2 + 8192);
        got = fread(text + *len, 1, cap - *len - 1, f);
        *len += got;
    } while (got > 0);
    int err = ferror(f);
    fclose(f);
    if (err) { snprintf(why, n, "%s: read error", path); free(text); return NULL; }
    text[*len] = 0;
    return text;
}

double round6(double x)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.6g", x);
    return strtod(buf, NULL);
}
