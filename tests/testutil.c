/* testutil.c: process spawning and a backend-level GEMM harness for the tests. */
#include "testutil.h"
#include "eltwise_cases.h"
#include "workload.h"
#include "gemm_ref.h"
#include "rng.h"
#include <criterion/criterion.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Under SAN=1, LeakSanitizer checks each test (Criterion runs every test in a re-executed child,
 * which has BXFI_MAP set) but not Criterion's own runner process, whose 48-byte allocation in
 * libcriterion is never freed and would fail the run after every test passed. */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void) { return getenv("BXFI_MAP") == NULL; }

static void slurp(int fd, char *buf, size_t n)
{
    size_t len = 0;
    ssize_t got;
    char sink[4096];
    while ((got = read(fd, len + 1 < n ? buf + len : sink, len + 1 < n ? n - len - 1 : sizeof sink)) > 0)
        if (len + 1 < n) len += (size_t)got;
    if (n) buf[len < n ? len : n - 1] = 0;
}

int run_dlbench(char *const args[], char *err, size_t errn, char *out, size_t outn)
{
    char *argv[64];
    int i = 0, pe[2], po[2], status;
    /* DLBENCH_BIN in the environment wins: the tests also run from a copied tree (GPU machines) */
    const char *bin = getenv("DLBENCH_BIN") ? getenv("DLBENCH_BIN") : DLBENCH_BIN;
    argv[i++] = (char *)bin;
    for (; args[i - 1] && i < 63; i++) argv[i] = args[i - 1];
    argv[i] = NULL;
    if (pipe(pe) || pipe(po)) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_addclose(&fa, pe[0]);
    posix_spawn_file_actions_addclose(&fa, po[0]);
    pid_t pid;
    if (posix_spawn(&pid, bin, &fa, NULL, argv, environ) != 0) return -1;
    close(pe[1]);
    close(po[1]);
    /* stdout first then stderr: outputs here are small enough not to fill a pipe */
    static char junk[1 << 16];
    slurp(po[0], out ? out : junk, out ? outn : sizeof junk);
    slurp(pe[0], err ? err : junk, err ? errn : sizeof junk);
    close(pe[0]);
    close(po[0]);
    waitpid(pid, &status, 0);
    posix_spawn_file_actions_destroy(&fa);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void seeded_dtype_values(struct rng *r, enum dtype dt, float *v, void *packed, size_t n)
{
    rng_fill_uniform(r, v, n, -1, 1);
    for (size_t i = 0; i < n; i++) v[i] = f32_round_to(dt, v[i]);
    dtype_pack(dt, v, packed, n);
}

double backend_gemm_error(const struct backend *b, enum dtype dt, int ta, int tb, int m, int n, int k)
{
    size_t na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n, es = dtype_size(dt);
    float *a = malloc(na * 4), *bb = malloc(nb * 4), *c = malloc(nc * 4);
    void *pa = malloc(na * es), *pb = malloc(nb * es);
    double *ref = malloc(nc * sizeof(double)), worst = 0;
    struct rng r;
    rng_seed(&r, 7, (uint64_t)(m * 131 + n * 17 + k));
    seeded_dtype_values(&r, dt, a, pa, na);
    seeded_dtype_values(&r, dt, bb, pb, nb);
    for (size_t i = 0; i < nc; i++) c[i] = NAN;
    void *da = b->dev->alloc(na * es), *db = b->dev->alloc(nb * es), *dc = b->dev->alloc(nc * 4);
    if (!da || !db || !dc || b->dev->upload(da, pa, na * es) || b->dev->upload(db, pb, nb * es) || b->dev->upload(dc, c, nc * 4) ||
        b->mm->gemm(dt, ta, tb, m, n, k, da, db, dc) || b->dev->sync() || b->dev->download(c, dc, nc * 4)) {
        worst = -1;
    } else {
        gemm_ref(ta, tb, m, n, k, a, bb, ref);
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) {
                double na2 = 0, nb2 = 0;
                for (long p = 0; p < k; p++) {
                    double x = ta ? a[p * m + i] : a[i * k + p], y = tb ? bb[j * k + p] : bb[p * n + j];
                    na2 += x * x;
                    nb2 += y * y;
                }
                double e = fabs(c[i * n + j] - ref[i * n + j]) / sqrt(na2 * nb2);
                if (!(e <= worst)) worst = e;
            }
    }
    b->dev->release(da); b->dev->release(db); b->dev->release(dc);
    free(a); free(bb); free(c); free(pa); free(pb); free(ref);
    return worst;
}

const struct backend *cuda_or_skip(void)
{
    char why[256];
    const struct backend *b = backend_find("cuda");
    if (!b->probe(why, sizeof why)) cr_skip_test("no usable GPU: %s", why);
    return b;
}

const struct backend *backend_or_skip(const char *name, const char *absent)
{
    char why[256];
    const struct backend *b = backend_find(name);
    if (!b) cr_skip_test("%s", absent);
    if (!b->probe(why, sizeof why)) cr_skip_test("%s: %s", name, why);
    return b;
}

char *temp_dir(void)
{
    char *d = strdup("/tmp/dlbench-test-XXXXXX");
    return mkdtemp(d) ? d : NULL;
}

double eltwise_error_ratio(const struct backend *b, int op, enum dtype dt, long n, int cols, int offset,
                           float magnitude, int calls, void **state_out)
{
    const struct workload *w = workload_find(op <= ELT_DOT ? "stream" : "eltwise");
    struct eltwise_shape s = {(enum elt_op)op, n, cols, offset, magnitude};
    char why[256];
    void *st = w->setup(b, &s, dt, 1234, why, sizeof why);
    if (!st) return -1;
    for (int i = 0; i < calls; i++)
        if (w->call(st) != 0) { w->teardown(st); return -1; }
    double err = w->check(st, why, sizeof why), tol = w->tolerance(&s, dt);
    if (state_out) *state_out = st;
    else w->teardown(st);
    return err < 0 ? -1 : err / tol;
}
