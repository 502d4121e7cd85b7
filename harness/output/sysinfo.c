/* sysinfo.c: the machine description as ordered triples, and its JSON form (system.json) through
 * cJSON. */
#include "sysinfo.h"
#include "files.h"
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

void sysinfo_set(struct sysinfo *si, const char *section, const char *key, const char *value)
{
    for (int i = 0; i < si->n; i++)
        if (strcmp(si->items[i].section, section) == 0 && strcmp(si->items[i].key, key) == 0) {
            snprintf(si->items[i].value, sizeof si->items[i].value, "%s", value);
            return;
        }
    sysinfo_put(si, section, key, value);
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

/* {"section": {"key": "value", ...}, ...} in the order each section first appears: a key added
 * to a section later (the run's end time) joins that section's object, never a second one. */
int sysinfo_write_json(const struct sysinfo *si, const char *path)
{
    cJSON *root = cJSON_CreateObject();
    for (int i = 0; i < si->n; i++) {
        cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, si->items[i].section);
        if (!sec) cJSON_AddItemToObject(root, si->items[i].section, sec = cJSON_CreateObject());
        cJSON_AddItemToObject(sec, si->items[i].key, cJSON_CreateString(si->items[i].value));
    }
    int rc = json_write_file(root, path);
    cJSON_Delete(root);
    return rc;
}

int sysinfo_read_json(struct sysinfo *si, const char *path, char *why, size_t n)
{
    size_t len;
    char *text = file_read_all(path, &len, why, n);
    si->items = NULL; si->n = si->cap = 0;
    if (!text) return -1;
    int rc = sysinfo_parse_json(si, text, path, why, n);
    free(text);
    return rc;
}

/* The 1-based line of p in text: bad input is reported as file:line. */
static int line_of(const char *text, const char *p)
{
    int line = 1;
    for (const char *q = text; p && q < p && *q; q++) line += *q == '\n';
    return line;
}

/* Reads the shape written above: an object of objects of strings; anything else is refused. */
int sysinfo_parse_json(struct sysinfo *si, const char *text, const char *name, char *why, size_t n)
{
    const char *end = NULL;
    const cJSON *sec, *kv;
    si->items = NULL; si->n = si->cap = 0;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        snprintf(why, n, "%s:%d: malformed JSON near byte %ld", name, line_of(text, end), end ? (long)(end - text) : -1L);
        return -1;
    }
    int ok = cJSON_IsObject(root);
    for (sec = ok ? root->child : NULL; sec && ok; sec = sec->next) {
        ok = cJSON_IsObject(sec);
        for (kv = ok ? sec->child : NULL; kv && ok; kv = kv->next)
            if ((ok = cJSON_IsString(kv))) sysinfo_put(si, sec->string, kv->string, kv->valuestring);
    }
    cJSON_Delete(root);
    if (!ok) {
        snprintf(why, n, "%s: not a dlbench system.json (an object of objects of strings)", name);
        sysinfo_free(si);
        return -1;
    }
    const char *fmt = sysinfo_get(si, "dlbench", "format");
    if (!fmt || atoi(fmt) != DLBENCH_FORMAT) {
        snprintf(why, n, "%s:%d: run folder format %s, this dlbench reads format %d", name,
                 line_of(text, strstr(text, "\"format\"")), fmt ? fmt : "unknown", DLBENCH_FORMAT);
        sysinfo_free(si);
        return -1;
    }
    return 0;
}
