/* run_record.c: the run's own record in system.json (sections "run" and "env"): command line,
 * settings, environment, start and end, how it ended; read back for report.md and `report`. */
#include "run_record.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern char **environ;

/* Variables that change what is measured: thread counts and placement (OpenMP, OpenBLAS, oneDNN,
 * MKL), the OpenBLAS kernel, which GPU and which libraries are loaded (cuDNN comes from
 * LD_LIBRARY_PATH on some machines), TF32 overrides, the price table, and dlbench's own knobs that
 * pick a kernel or a device (DLBENCH_CONV_PATH, DLBENCH_FLASH_MT/KT, DLBENCH_CUDNN_RTC,
 * DLBENCH_BIND, DLBENCH_GPU, DLBENCH_LIBDNNL) or slow and fault on purpose (DLBENCH_TEST_*). */
static const char *const env_prefixes[] = {"OMP_", "GOMP_", "KMP_", "OPENBLAS_", "GOTO_", "DNNL_", "ONEDNN_", "MKL_",
                                           "CUDA_", "CUBLAS_", "CUBLASLT_", "CUDNN_", "NVIDIA_", "NCCL_",
                                           "LD_LIBRARY_PATH=", "LD_PRELOAD=", "DLBENCH_PRICES=", "DLBENCH_CONV_",
                                           "DLBENCH_FLASH_", "DLBENCH_CUDNN_RTC=", "DLBENCH_BIND=", "DLBENCH_GPU=",
                                           "DLBENCH_LIBDNNL=", "DLBENCH_TEST_"};
#define NPREFIXES (sizeof env_prefixes / sizeof env_prefixes[0])

void shell_quote(const char *s, char *buf, size_t n)
{
    size_t k = 0;
    int plain = *s != 0;
    for (const char *p = s; *p && plain; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-_./=:,+@%", *p);
    if (plain) { snprintf(buf, n, "%s", s); return; }
    if (n < 3) { if (n) buf[0] = 0; return; }
    buf[k++] = '\'';
    for (const char *p = s; *p && k + 5 < n; p++) { /* room left for '\'' and the closing quote */
        if (*p == '\'') { memcpy(buf + k, "'\\''", 4); k += 4; }
        else buf[k++] = *p;
    }
    buf[k++] = '\'';
    buf[k] = 0;
}

/* Appends " word" (no space when buf is empty); a word that does not fit ends the line with "…". */
static void append(char *buf, size_t n, const char *word)
{
    size_t len = strlen(buf), w = strlen(word), sp = len > 0;
    if (len + sp + w + 1 > n) {
        if (len + 4 < n && (len < 3 || strcmp(buf + len - 3, "…"))) memcpy(buf + len, "…", 4);
        return;
    }
    if (sp) buf[len++] = ' ';
    memcpy(buf + len, word, w + 1);
}

/* Appends the quoted words to buf (space-separated). */
static void join_quoted(char *buf, size_t n, const char *const *words, int nwords)
{
    char q[1024];
    for (int i = 0; i < nwords; i++) {
        shell_quote(words[i] ? words[i] : "", q, sizeof q);
        append(buf, n, q);
    }
}

void run_record_command(struct sysinfo *si, int argc, char *const *argv)
{
    char line[1024] = "";
    if (argc <= 0 || !argv) { sysinfo_set(si, "run", "command_line", "not recorded (started as a library call)"); return; }
    join_quoted(line, sizeof line, (const char *const *)argv, argc);
    sysinfo_set(si, "run", "command_line", line);
}

static int env_matters(const char *entry)
{
    if (!strncmp(entry, "CUDA_HOME=", 10) || !strncmp(entry, "CUDA_PATH=", 10)) return 0; /* the build's, not the run's */
    for (size_t p = 0; p < NPREFIXES; p++)
        if (!strncmp(entry, env_prefixes[p], strlen(env_prefixes[p]))) return 1;
    return 0;
}

void run_record_env(struct sysinfo *si)
{
    char prefixes[512] = "", name[48];
    for (size_t p = 0; p < NPREFIXES; p++)
        snprintf(prefixes + strlen(prefixes), sizeof prefixes - strlen(prefixes), "%s%.*s%s", p ? " " : "",
                 (int)strcspn(env_prefixes[p], "="), env_prefixes[p], env_prefixes[p][strlen(env_prefixes[p]) - 1] == '_' ? "*" : "");
    sysinfo_set(si, "run", "env_recorded", prefixes);
    for (char **e = environ; e && *e; e++) {
        size_t len = strcspn(*e, "=");
        if (!(*e)[len] || !env_matters(*e) || len >= sizeof name) continue;
        snprintf(name, sizeof name, "%.*s", (int)len, *e);
        sysinfo_set(si, "env", name, *e + len + 1);
    }
}

void run_record_reproduce(struct sysinfo *si, const char *prog, const char *const *args, int nargs)
{
    char line[1024] = "", assign[1024];
    for (int i = 0; i < si->n; i++) {
        if (strcmp(si->items[i].section, "env")) continue;
        size_t k = strlen(si->items[i].key);
        memcpy(assign, si->items[i].key, k);
        assign[k] = '=';
        shell_quote(si->items[i].value, assign + k + 1, sizeof assign - k - 1);
        append(line, sizeof line, assign);
    }
    join_quoted(line, sizeof line, &prog, 1);
    join_quoted(line, sizeof line, args, nargs);
    sysinfo_set(si, "run", "reproduce", line);
}

static void utc_now(char *buf, size_t n)
{
    time_t now = time(NULL);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
}

void run_record_start(struct sysinfo *si)
{
    char v[32];
    utc_now(v, sizeof v);
    sysinfo_set(si, "run", "start_utc", v);
    sysinfo_set(si, "run", "state", "running");
}

void run_record_end(struct sysinfo *si, const char *state, int rows_done, double seconds, int exit_code)
{
    char v[64];
    utc_now(v, sizeof v);
    sysinfo_set(si, "run", "end_utc", v);
    snprintf(v, sizeof v, "%.1f", seconds);
    sysinfo_set(si, "run", "duration_s", v);
    snprintf(v, sizeof v, "%d", rows_done);
    sysinfo_set(si, "run", "rows_done", v);
    snprintf(v, sizeof v, "%d", exit_code);
    sysinfo_set(si, "run", "exit_code", v);
    sysinfo_set(si, "run", "state", state);
}

enum run_state run_record_state(const struct sysinfo *si, char *buf, size_t n)
{
    const char *st = sysinfo_get(si, "run", "state"), *planned = sysinfo_get(si, "run", "rows_planned"),
               *done = sysinfo_get(si, "run", "rows_done");
    if (!st) {
        snprintf(buf, n, "not recorded (a run folder from a dlbench that did not record how runs end)");
        return RUN_UNRECORDED;
    }
    if (!strcmp(st, "running")) {
        snprintf(buf, n, "incomplete: the run never recorded its end (killed, crashed, or still running); "
                         "the report covers the rows that finished");
        return RUN_INCOMPLETE;
    }
    if (!strcmp(st, "completed")) {
        snprintf(buf, n, "completed: %s of %s planned rows", done ? done : "?", planned ? planned : "?");
        return RUN_COMPLETED;
    }
    snprintf(buf, n, "%s: %s of %s planned rows finished", st, done ? done : "?", planned ? planned : "?");
    return RUN_INTERRUPTED;
}

static const char *get(const struct sysinfo *si, const char *key)
{
    const char *v = sysinfo_get(si, "run", key);
    return v ? v : "—";
}

void run_record_write_md(const struct sysinfo *si, FILE *f)
{
    static const char *const settings[] = {"suite", "backends", "workloads", "filter", "dtypes", "threads", "size",
                                           "min_time_s", "max_time_s", "case_timeout_s", "seed", "data", "prices",
                                           "ceilings", "out"};
    char state[256];
    int any = 0;
    run_record_state(si, state, sizeof state);
    fprintf(f, "\n## Run\n\n- **State**: %s\n", state);
    if (!sysinfo_get(si, "run", "start_utc")) return;
    fprintf(f, "- **Time**: %s to %s (%s s)\n", get(si, "start_utc"), get(si, "end_utc"), get(si, "duration_s"));
    fputs("- **Settings**:", f);
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        const char *v = sysinfo_get(si, "run", settings[i]);
        if (v) fprintf(f, "%s %s `%s`", any++ ? "," : "", settings[i], v);
    }
    fputs("\n- **Environment**:", f);
    any = 0;
    for (int i = 0; i < si->n; i++)
        if (!strcmp(si->items[i].section, "env")) fprintf(f, "%s `%s=%s`", any++ ? "," : "", si->items[i].key, si->items[i].value);
    fprintf(f, "%s (recorded: %s)\n", any ? "" : " none of the variables that change results was set", get(si, "env_recorded"));
    fprintf(f, "- **Command line**: `%s`\n- **To reproduce** (into a new folder): `%s`\n", get(si, "command_line"),
            get(si, "reproduce"));
}
