/* sysinfo.c: the machine description as ordered triples, and its flat JSON form (write/read). */
#include "sysinfo.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void sysinfo_put(struct sysinfo *si, const char *section, const char *key, const char *value)
{
    if (si->n == si->cap) si->items = realloc(si->items, sizeof *si->items * (si->cap = si->cap ? si->cap * 2 : 64));
    struct kv *k = &si->items[si->n++];
    snprintf(k->section, sizeof k->section, "%s", section);
    snprintf(k->key, sizeof k->key, "%s", key);
    snprintf(k->value, sizeof k->value, "%s", value);
}

const char *sysinfo_get(const struct sysinfo *si, const char *section, const char *key)
{
    for (int i = 0; i < si->n; i++)
        if (strcmp(si->items[i].section, section) == 0 && strcmp(si->items[i].key, key) == 0)
            return si->items[i].value;
    return NULL;
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
            if (*p == 'u') { /* exactly four hex digits, or the string is malformed */
                unsigned code = 0;
                for (int i = 1; i <= 4; i++) {
                    char h = p[i];
                    int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
                    if (d < 0) return NULL;
                    code = code * 16 + (unsigned)d;
                }
                c = (char)code;
                p += 4;
            }
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
    int rc = sysinfo_parse_json(si, text, path, why, n);
    free(text);
    return rc;
}

static int line_of(const char *text, const char *p)
{
    int line = 1;
    for (const char *q = text; q < p && *q; q++) line += *q == '\n';
    return line;
}

int sysinfo_parse_json(struct sysinfo *si, const char *text, const char *name, char *why, size_t n)
{
    char sec[32], key[48], val[256];
    si->items = NULL; si->n = si->cap = 0;
    const char *p = skip_ws(text), *at = p;   /* at: where the value being read starts */
    if (*p++ != '{') goto bad;
    for (p = skip_ws(p); *p == '"';) {
        if (!(p = read_string(at = p, sec, sizeof sec))) goto bad;
        p = skip_ws(p);
        if (*p++ != ':') goto bad;
        p = skip_ws(p);
        if (*p++ != '{') goto bad;
        for (p = skip_ws(p); *p == '"';) {
            if (!(p = read_string(at = p, key, sizeof key))) goto bad;
            p = skip_ws(p);
            if (*p++ != ':') goto bad;
            if (!(p = read_string(at = skip_ws(p), val, sizeof val))) goto bad;
            sysinfo_put(si, sec, key, val);
            p = skip_ws(p);
            if (*p == ',') p = skip_ws(p + 1);
        }
        if (*p++ != '}') goto bad;
        p = skip_ws(p);
        if (*p == ',') p = skip_ws(p + 1);
    }
    if (*p != '}') goto bad;
    const char *fmt = sysinfo_get(si, "dlbench", "format"), *fmt_at = strstr(text, "\"format\"");
    if (!fmt || atoi(fmt) != DLBENCH_FORMAT) {
        snprintf(why, n, "%s:%d: run folder format %s, this dlbench reads format %d", name, line_of(text, fmt_at ? fmt_at : text),
                 fmt ? fmt : "unknown", DLBENCH_FORMAT);
        sysinfo_free(si);
        return -1;
    }
    return 0;
bad:
    if (!p) p = at;
    snprintf(why, n, "%s:%d: malformed JSON near byte %ld", name, line_of(text, p), (long)(p - text));
    sysinfo_free(si);
    return -1;
}
