/* dataset.c: synthetic teacher-labelled data and the MNIST IDX loader (strict header checks). */
#include "dataset.h"
#include "rng.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *dataset_dir;

/* Each image is drawn around a random class prototype (pixels clamped to [0, 1]) and labelled by a
 * fixed random linear teacher whose rows are those prototypes: argmax_c <proto_c, x - 0.5>. The
 * labels therefore follow the teacher exactly, and a student can learn them. Image i draws from its
 * own stream (8 + i), so the set is the same bits whatever the thread count: 47 M normal draws take
 * ~3 s on one core, and every run with an MLP, CNN or data-parallel row (workload uses_images)
 * makes the set before it measures anything. */
void dataset_synthetic(struct dataset *d, int n, uint64_t seed)
{
    const int px = 28 * 28, classes = 10;
    struct rng r;
    float *teacher = malloc(sizeof(float) * px * classes);
    *d = (struct dataset){n, 1, 28, 28, classes, malloc(sizeof(float) * (size_t)n * px), malloc(sizeof(int32_t) * n), ""};
    rng_seed(&r, seed, 7);
    for (int i = 0; i < px * classes; i++) teacher[i] = (float)rng_normal(&r);
#pragma omp parallel for schedule(static) private(r)
    for (int i = 0; i < n; i++) {
        float *xi = d->x + (size_t)i * px, best = -1e30f;
        rng_seed(&r, seed, 8 + (uint64_t)i);
        const float *proto = teacher + (size_t)(rng_next(&r) % classes) * px;
        for (int p = 0; p < px; p++) {
            float v = 0.5f + 0.15f * proto[p] + 0.25f * (float)rng_normal(&r);
            xi[p] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
        for (int k = 0; k < classes; k++) {
            float s = 0;
            for (int p = 0; p < px; p++) s += teacher[k * px + p] * (xi[p] - 0.5f);
            if (s > best) { best = s; d->y[i] = k; }
        }
    }
    free(teacher);
    snprintf(d->source, sizeof d->source, "synthetic: %d images 1x28x28 around random class prototypes, labelled by a "
             "random linear teacher (seed %llu)", n, (unsigned long long)seed);
}

long idx_parse(const unsigned char *buf, size_t len, int ndims, unsigned dims[3], char *why, size_t n)
{
    if (len < 4) { snprintf(why, n, "truncated header (%zu bytes)", len); return -1; }
    if (buf[0] || buf[1]) { snprintf(why, n, "bad magic %02x%02x: not an IDX file", buf[0], buf[1]); return -1; }
    if (buf[2] != 0x08) { snprintf(why, n, "element type 0x%02x, expected unsigned bytes (0x08)", buf[2]); return -1; }
    if (buf[3] != ndims) { snprintf(why, n, "%d dimensions, expected %d", buf[3], ndims); return -1; }
    if (len < 4 + 4 * (size_t)ndims) { snprintf(why, n, "truncated header"); return -1; }
    unsigned long long total = 1;
    for (int i = 0; i < ndims; i++) {
        const unsigned char *p = buf + 4 + 4 * i;
        dims[i] = (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
        if (dims[i] == 0 || dims[i] > 100000000u) { snprintf(why, n, "dimension %d is %u", i, dims[i]); return -1; }
        total *= dims[i];
    }
    size_t off = 4 + 4 * (size_t)ndims;
    if (total > len - off) { snprintf(why, n, "holds %zu data bytes, the header says %llu", len - off, total); return -1; }
    if (total < len - off) { snprintf(why, n, "%zu bytes after the data the header describes", (size_t)(len - off - total)); return -1; }
    return (long)off;
}

static unsigned char *slurp(const char *path, size_t *len, char *why, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(why, n, "%s: %s", path, strerror(errno)); return NULL; }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = sz >= 0 ? malloc((size_t)sz + 1) : NULL;
    if (!buf || fread(buf, 1, (size_t)sz, f) != (size_t)sz) { snprintf(why, n, "%s: cannot read", path); free(buf); fclose(f); return NULL; }
    fclose(f);
    *len = (size_t)sz;
    return buf;
}

int dataset_load_idx(struct dataset *d, const char *dir, char *why, size_t n)
{
    char pi[4200], pl[4200], w[200];
    size_t li, ll;
    unsigned di[3], dl[3];
    snprintf(pi, sizeof pi, "%s/train-images-idx3-ubyte", dir);
    snprintf(pl, sizeof pl, "%s/train-labels-idx1-ubyte", dir);
    unsigned char *bi = slurp(pi, &li, why, n), *bl = bi ? slurp(pl, &ll, why, n) : NULL;
    long oi = -1, ol = -1;
    if (bi && bl) {
        if ((oi = idx_parse(bi, li, 3, di, w, sizeof w)) < 0) snprintf(why, n, "%s: %s", pi, w);
        else if ((ol = idx_parse(bl, ll, 1, dl, w, sizeof w)) < 0) snprintf(why, n, "%s: %s", pl, w);
        else if (di[1] != 28 || di[2] != 28) { snprintf(why, n, "%s: images are %ux%u, expected 28x28", pi, di[1], di[2]); oi = -1; }
        else if (di[0] != dl[0]) { snprintf(why, n, "%s: %u labels for %u images", pl, dl[0], di[0]); oi = -1; }
        for (unsigned i = 0; oi >= 0 && ol >= 0 && i < dl[0]; i++)
            if (bl[ol + i] > 9) { snprintf(why, n, "%s: label %u of item %u is not a digit", pl, bl[ol + i], i); oi = -1; }
    }
    if (!bi || !bl || oi < 0 || ol < 0) { free(bi); free(bl); return -1; }
    int count = (int)di[0];
    *d = (struct dataset){count, 1, 28, 28, 10, malloc(sizeof(float) * (size_t)count * 784), malloc(sizeof(int32_t) * count), ""};
    for (size_t i = 0; i < (size_t)count * 784; i++) d->x[i] = bi[oi + i] / 255.0f;
    for (int i = 0; i < count; i++) d->y[i] = bl[ol + i];
    snprintf(d->source, sizeof d->source, "MNIST IDX files in %s (%d images)", dir, count);
    free(bi);
    free(bl);
    return 0;
}

void dataset_free(struct dataset *d)
{
    free(d->x);
    free(d->y);
    d->x = NULL;
    d->y = NULL;
}

int dataset_dir_is_idx(void)
{
    struct stat st;
    return dataset_dir && !(stat(dataset_dir, &st) == 0 && S_ISREG(st.st_mode));
}

const struct dataset *dataset_get(char *why, size_t n)
{
    static struct dataset d;
    static int state; /* 0 not yet, 1 ready, -1 failed */
    static char err[512];
    if (state == 0) {
        /* --data FILE is the GPT cases' text; the MLP/CNN cases then stay synthetic */
        if (dataset_dir_is_idx()) state = dataset_load_idx(&d, dataset_dir, err, sizeof err) == 0 ? 1 : -1;
        else { dataset_synthetic(&d, 60000, 2024); state = 1; }
    }
    if (state < 0) { snprintf(why, n, "%s", err); return NULL; }
    return &d;
}
