/* runs.c: loading run folders for compare, ab and baseline, and their machine fingerprints. */
#include "runs.h"
#include "results.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int run_folder_load(struct run_folder *r, const char *path, char *why, size_t n)
{
    char p[4200];
    struct stat st;
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", path);
    if (stat(path, &st) != 0) { snprintf(why, n, "%s does not exist", path); return -1; }
    if (S_ISREG(st.st_mode)) { /* the path of a file in the folder, e.g. its results.csv */
        char *slash = strrchr(r->dir, '/');
        if (slash) *slash = 0; else snprintf(r->dir, sizeof r->dir, ".");
    }
    snprintf(p, sizeof p, "%s/system.json", r->dir);
    if (stat(p, &st) != 0) { snprintf(why, n, "%s is not a dlbench run folder (no system.json)", path); return -1; }
    if (sysinfo_read_json(&r->si, p, why, n) != 0) return -1;
    snprintf(p, sizeof p, "%s/results.csv", r->dir);
    if ((r->nrows = results_load(p, &r->rows, why, n)) < 0) return -1;
    if ((r->nnoise = noise_load(r->dir, &r->noise, why, n)) < 0) return -1;
    return 0;
}

void run_folder_free(struct run_folder *r)
{
    free(r->rows);
    noise_free(r->noise, r->nnoise);
    sysinfo_free(&r->si);
    r->rows = NULL;
    r->noise = NULL;
}

/* The fingerprint's fields: name and value ("none" when absent). */
#define FP_FIELDS 4
static void fingerprint_fields(const struct sysinfo *si, char v[FP_FIELDS][256])
{
    static const char *const where[3][2] = {{"cpu", "model"}, {"cpu", "cores"}, {"gpu0", "name"}};
    for (int i = 0; i < 3; i++) snprintf(v[i], 256, "%s", sysinfo_get(si, where[i][0], where[i][1]) ?: "none");
    const char *drv = sysinfo_get(si, "cuda", "driver");
    snprintf(v[3], 256, "%.*s", drv ? (int)strcspn(drv, ".") : 4, drv ? drv : "none");
}
static const char *const fp_names[FP_FIELDS] = {"cpu.model", "cpu.cores", "gpu", "driver major"};

void run_fingerprint(const struct sysinfo *si, char *buf, size_t n)
{
    char v[FP_FIELDS][256];
    fingerprint_fields(si, v);
    snprintf(buf, n, "%s=%s, %s=%s, %s=%s, %s=%s", fp_names[0], v[0], fp_names[1], v[1], fp_names[2], v[2], fp_names[3], v[3]);
}

int run_fingerprints_match(const struct run_folder *f, int n, char *why, size_t wn)
{
    char a[FP_FIELDS][256], b[FP_FIELDS][256];
    fingerprint_fields(&f[0].si, a);
    for (int i = 1; i < n; i++) {
        fingerprint_fields(&f[i].si, b);
        size_t k = 0;
        for (int j = 0; j < FP_FIELDS; j++)
            if (strcmp(a[j], b[j]) && k < wn)
                k += snprintf(why + k, wn - k, "%s%s '%s' in %s, '%s' in %s", k ? "; " : "hardware differs: ", fp_names[j],
                              a[j], f[0].dir, b[j], f[i].dir);
        if (k) return -1;
    }
    return 0;
}
