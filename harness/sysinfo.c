/* sysinfo.c: collects and serialises the machine description (flat JSON of string values). */
#include "sysinfo.h"
#include "backend.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef DLBENCH_GIT_REV
#define DLBENCH_GIT_REV "unknown"
#endif
#ifndef DLBENCH_CFLAGS
#define DLBENCH_CFLAGS "unknown"
#endif

void sysinfo_put(struct sysinfo *si, const char *section, const char *key, const char *value)
{
    if (si->n == si->cap) si->items = realloc(si->items, sizeof *si->items * (si->cap = si->cap ? si->cap * 2 : 64));
    struct kv *k = &si->items[si->n++];
    snprintf(k->section, sizeof k->section, "%s", section);
    snprintf(k->key, sizeof k->key, "%s", key);
    snprintf(k->value, sizeof k->value, "%s", value);
}

static void put_cb(void *u, const char *section, const char *key, const char *value)
{
    sysinfo_put(u, section, key, value);
}

const char *sysinfo_get(const struct sysinfo *si, const char *section, const char *key)
{
    for (int i = 0; i < si->n; i++)
        if (strcmp(si->items[i].section, section) == 0 && strcmp(si->items[i].key, key) == 0)
            return si->items[i].value;
    return NULL;
}

void sysinfo_collect(struct sysinfo *si)
{
    char v[256];
    struct utsname u;
    time_t now = time(NULL);
    si->items = NULL; si->n = si->cap = 0;
    snprintf(v, sizeof v, "%d", DLBENCH_FORMAT);
    sysinfo_put(si, "dlbench", "format", v);
    sysinfo_put(si, "dlbench", "version", DLBENCH_VERSION);
    sysinfo_put(si, "dlbench", "git_revision", DLBENCH_GIT_REV);
    strftime(v, sizeof v, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    sysinfo_put(si, "dlbench", "date_utc", v);
    if (gethostname(v, sizeof v) != 0) snprintf(v, sizeof v, "unknown");
    sysinfo_put(si, "host", "hostname", v);
    if (uname(&u) == 0) {
        snprintf(v, sizeof v, "%s %s %s", u.sysname, u.release, u.machine);
        sysinfo_put(si, "host", "kernel", v);
    }
    snprintf(v, sizeof v, "gcc %d.%d.%d", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
    sysinfo_put(si, "build", "compiler", v);
    sysinfo_put(si, "build", "cflags", DLBENCH_CFLAGS);
#ifdef HAVE_CUDNN
    sysinfo_put(si, "build", "cudnn", "yes");
#endif
    for (int i = 0; i < backend_count; i++) {
        char why[256];
        if (backends[i]->info) backends[i]->info(put_cb, si);
        else if (!backends[i]->probe(why, sizeof why)) sysinfo_put(si, backends[i]->name, "status", why);
    }
}

void sysinfo_free(struct sysinfo *si) { free(si->items); si->items = NULL; si->n = si->cap = 0; }

void sysinfo_print(const struct sysinfo *si, FILE *f)
{
    const char *sec = "";
    for (int i = 0; i < si->n; i++) {
        if (strcmp(sec, si->items[i].section) != 0) fprintf(f, "%s:\n", sec = si->items[i].section);
        fprintf(f, "  %-20s %s\n", si->items[i].key, si->items[i].value);
    }
}

void json_write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

int sysinfo_write_json(const struct sysinfo *si, const char *path)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    const char *sec = NULL;
    fputs("{", f);
    for (int i = 0; i < si->n; i++) {
        if (!sec || strcmp(sec, si->items[i].section) != 0) {
            fputs(sec ? "\n  },\n  " : "\n  ", f);
            json_write_string(f, sec = si->items[i].section);
            fputs(": {", f);
        } else fputc(',', f);
        fputs("\n    ", f);
        json_write_string(f, si->items[i].key);
        fputs(": ", f);
        json_write_string(f, si->items[i].value);
    }
    fputs(sec ? "\n  }\n}\n" : "}\n", f);
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    return bad || rename(tmp, path) != 0 ? -1 : 0;
}

/* A reader for exactly the shape written above: {"sec": {"key": "value", ...}, ...}. */
static const char *skip_ws(const char *p) { while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++; return p; }

static const char *read_string(const char *p, char *out, size_t n)
{
    size_t len = 0;
    if (*p != '"') return NULL;
    for (p++; *p && *p != '"'; p++) {
        char c = *p;
        if (c == '\\') {
            p++;
            if (*p == 'u') { unsigned code; if (sscanf(p + 1, "%4x", &code) != 1) return NULL; c = (char)code; p += 4; }
            else if (*p == 'n') c = '\n';
            else if (*p) c = *p;
            else return NULL;
        }
        if (len + 1 < n) out[len++] = c;
    }
    if (*p != '"') return NULL;
    out[len] = 0;
    return p + 1;
}

int sysinfo_read_json(struct sysinfo *si, const char *path, char *why, size_t n)
{
    FILE *f = fopen(path, "r");
    si->items = NULL; si->n = si->cap = 0;
    if (!f) { snprintf(why, n, "%s: %s", path, strerror(errno)); return -1; }
    char *text = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len + 4096 > cap) text = realloc(text, cap = cap * 2 + 8192);
        got = fread(text + len, 1, cap - len - 1, f);
        len += got;
    } while (got > 0);
    fclose(f);
    text[len] = 0;
    char sec[32], key[48], val[256];
    const char *p = skip_ws(text);
    if (*p++ != '{') goto bad;
    for (p = skip_ws(p); *p == '"';) {
        if (!(p = read_string(p, sec, sizeof sec))) goto bad;
        p = skip_ws(p);
        if (*p++ != ':') goto bad;
        p = skip_ws(p);
        if (*p++ != '{') goto bad;
        for (p = skip_ws(p); *p == '"';) {
            if (!(p = read_string(p, key, sizeof key))) goto bad;
            p = skip_ws(p);
            if (*p++ != ':') goto bad;
            if (!(p = read_string(skip_ws(p), val, sizeof val))) goto bad;
            sysinfo_put(si, sec, key, val);
            p = skip_ws(p);
            if (*p == ',') p = skip_ws(p + 1);
        }
        if (*p++ != '}') goto bad;
        p = skip_ws(p);
        if (*p == ',') p = skip_ws(p + 1);
    }
    if (*p != '}') goto bad;
    free(text);
    const char *fmt = sysinfo_get(si, "dlbench", "format");
    if (!fmt || atoi(fmt) != DLBENCH_FORMAT) {
        snprintf(why, n, "%s: run folder format %s, this dlbench reads format %d", path, fmt ? fmt : "unknown", DLBENCH_FORMAT);
        sysinfo_free(si);
        return -1;
    }
    return 0;
bad:
    snprintf(why, n, "%s: malformed JSON near byte %ld", path, (long)(p - text));
    free(text);
    sysinfo_free(si);
    return -1;
}
