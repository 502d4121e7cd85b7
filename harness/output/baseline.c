/* baseline.c: `dlbench baseline DIR RUN...`: the noise model of a baseline folder from repeated
 * runs of one machine (DIR/noise.csv), so compare can judge one new run against their spread. */
#include "baseline.h"
#include "cli.h"
#include "noise.h"
#include "runs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The noise row of r's identity in rows[0..*n), appended when new. */
static struct noise_row *noise_row_for(struct noise_row **rows, int *n, const struct row *r)
{
    for (int i = 0; i < *n; i++) {
        struct noise_row *x = &(*rows)[i];
        if (!strcmp(x->backend, r->backend) && !strcmp(x->workload, r->workload) && !strcmp(x->case_name, r->case_name) &&
            !strcmp(x->dtype, r->dtype) && x->threads == r->threads)
            return x;
    }
    *rows = realloc(*rows, sizeof **rows * (*n + 1));
    struct noise_row *x = &(*rows)[(*n)++];
    memset(x, 0, sizeof *x);
    snprintf(x->backend, sizeof x->backend, "%s", r->backend);
    snprintf(x->workload, sizeof x->workload, "%s", r->workload);
    snprintf(x->case_name, sizeof x->case_name, "%s", r->case_name);
    snprintf(x->dtype, sizeof x->dtype, "%s", r->dtype);
    x->threads = r->threads;
    return x;
}

static const char *usage_baseline =
    "usage: dlbench baseline DIR RUN RUN [RUN...]\n"
    "  writes DIR/noise.csv: for each row, the medians of the repeated runs RUN... (two or more run\n"
    "  folders of one machine; DIR is a run folder, usually one of them copied to\n"
    "  results/baselines/<name>). `dlbench compare DIR NEW` then judges a single new run against the\n"
    "  spread between those runs.\n"
    "exit: 0 written, 2 bad input or different hardware\n";

int baseline_main(int argc, char **argv)
{
    static const struct option lo[] = {{"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
    char why[1024];
    int c;
    while ((c = cli_next_option(argc, argv, "baseline", usage_baseline, lo)) >= 0) {}
    if (c != CLI_END) return c == CLI_EXIT0 ? 0 : 2;
    int nf = argc - optind;
    if (nf < 3) { cli_err("baseline", "needs a baseline folder and at least two runs (dlbench baseline --help)"); return 2; }
    struct run_folder *f = calloc(nf, sizeof *f);
    struct noise_row *rows = NULL;
    int nrows = 0, rc = 2;
    for (int i = 0; i < nf; i++)
        if (run_folder_load(&f[i], argv[optind + i], why, sizeof why) != 0) { fprintf(stderr, "dlbench: baseline: %s\n", why); goto out; }
    if (run_fingerprints_match(f, nf, why, sizeof why) != 0) { fprintf(stderr, "dlbench: baseline: %s\n", why); goto out; }
    for (int i = 1; i < nf; i++)
        for (int j = 0; j < f[i].nrows; j++) {
            if (!row_measured(&f[i].rows[j])) continue;
            struct noise_row *x = noise_row_for(&rows, &nrows, &f[i].rows[j]);
            x->median_s = realloc(x->median_s, sizeof(double) * (x->n + 1));
            x->median_s[x->n++] = f[i].rows[j].median_s;
        }
    if (noise_write(f[0].dir, rows, nrows) != 0) { fprintf(stderr, "dlbench: baseline: cannot write %s/%s\n", f[0].dir, NOISE_FILE); goto out; }
    double worst = 0;
    int at = -1;
    for (int i = 0; i < nrows; i++)
        if (noise_spread(rows[i].median_s, rows[i].n) > worst) { worst = noise_spread(rows[i].median_s, rows[i].n); at = i; }
    printf("%s/%s: %d rows from %d runs", f[0].dir, NOISE_FILE, nrows, nf - 1);
    if (at >= 0) printf("; largest spread between runs %.1f%% (%s %s %s %s %d threads)", 100 * worst, rows[at].backend,
                        rows[at].workload, rows[at].case_name, rows[at].dtype, rows[at].threads);
    putchar('\n');
    rc = 0;
out:
    for (int i = 0; i < nf; i++) run_folder_free(&f[i]);
    free(f);
    noise_free(rows, nrows);
    return rc;
}
