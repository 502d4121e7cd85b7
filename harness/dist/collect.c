/* collect.c: one item's rows from every rank to rank 0: each rank's row and samples packed into one
 * message (group.h's dist_gather_bytes carries it and waits with a deadline); a rank that did not
 * answer gets a row made from rank 0's, "failed: rank K lost". Ranks run one binary on one
 * architecture: a row travels as its bytes. */
#include "dist.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rows_hdr { int have, ns; };

static void *pack(const struct row *r, int have, const double *s, int ns, int *bytes)
{
    struct rows_hdr h = {have, have ? ns : 0};
    size_t len = sizeof h + (have ? sizeof *r + sizeof(double) * (size_t)h.ns : 0);
    char *m = malloc(len);
    memcpy(m, &h, sizeof h);
    if (have) {
        memcpy(m + sizeof h, r, sizeof *r);
        if (h.ns) memcpy(m + sizeof h + sizeof *r, s, sizeof(double) * (size_t)h.ns);
    }
    *bytes = (int)len;
    return m;
}

/* 1 with out filled, 0 when the message carries no row, -1 when it is malformed. */
static int unpack(const char *m, int len, struct dist_row *out)
{
    struct rows_hdr h;
    if (len < (int)sizeof h) return -1;
    memcpy(&h, m, sizeof h);
    if (!h.have) return 0;
    if (h.ns < 0 || len != (int)(sizeof h + sizeof out->r + sizeof(double) * (size_t)h.ns)) return -1;
    memcpy(&out->r, m + sizeof h, sizeof out->r);
    out->n = h.ns;
    out->samples = NULL;
    if (h.ns) {
        out->samples = malloc(sizeof(double) * (size_t)h.ns);
        memcpy(out->samples, m + sizeof h + sizeof out->r, sizeof(double) * (size_t)h.ns);
    }
    return 1;
}

static void lost_row(struct row *dst, const struct row *t, int rank, double waited)
{
    const char *host = dist_host_of(rank);
    row_init(dst);
    memcpy(dst->backend, t->backend, sizeof dst->backend);
    memcpy(dst->device, t->device, sizeof dst->device);
    memcpy(dst->workload, t->workload, sizeof dst->workload);
    memcpy(dst->family, t->family, sizeof dst->family);
    memcpy(dst->case_name, t->case_name, sizeof dst->case_name);
    memcpy(dst->shape, t->shape, sizeof dst->shape);
    memcpy(dst->dtype, t->dtype, sizeof dst->dtype);
    dst->threads = t->threads;
    dst->flops = t->flops;
    dst->bytes = t->bytes;
    dst->rank = rank;
    dst->ranks = dist_size();
    snprintf(dst->host, sizeof dst->host, "%s", host && *host ? host : "unknown");
    snprintf(dst->status, sizeof dst->status, "failed: rank %d lost (no answer within %.0f s)", rank, waited);
}

int dist_collect(int item, const struct row *mine, int have, const double *samples, int ns, double wait_s,
                 struct dist_row **got, int *ngot)
{
    int size = dist_size(), bytes, *lens = calloc(size, sizeof *lens);
    void **msgs = calloc(size, sizeof *msgs), *m = pack(mine, have, samples, ns, &bytes);
    int lost = dist_gather_bytes(item, m, bytes, wait_s, msgs, lens);
    free(m);
    *ngot = 0;
    *got = calloc(size, sizeof **got);
    for (int r = 0; r < size && dist_rank() == 0; r++) {
        if (!msgs[r]) {
            if (have) lost_row(&(*got)[(*ngot)++].r, mine, r, wait_s);   /* rank 0 always has a row */
            fprintf(stderr, "dlbench: rank %d lost: no rows from it within %.0f s\n", r, wait_s);
        } else if (unpack(msgs[r], lens[r], &(*got)[*ngot]) > 0) {
            (*ngot)++;
        }
        free(msgs[r]);
    }
    free(msgs);
    free(lens);
    return lost;
}

void dist_rows_free(struct dist_row *rows, int n)
{
    for (int i = 0; i < n; i++) free(rows[i].samples);
    free(rows);
}
