/* sysinfo.h: the machine description: host facts, build facts and every backend's info(),
 * as ordered (section, key, value) triples for `info`, system.json and report.md. */
#ifndef DLBENCH_SYSINFO_H
#define DLBENCH_SYSINFO_H
#include <stdio.h>

#define DLBENCH_VERSION "0.1.0"
#ifndef DLBENCH_GIT_REV
#define DLBENCH_GIT_REV "unknown"
#endif
#define DLBENCH_FORMAT 1          /* run-folder format; `report`/`compare` refuse others */

struct kv { char section[32], key[48], value[256]; };
struct sysinfo { struct kv *items; int n, cap; };

void sysinfo_collect(struct sysinfo *si);               /* host, build, each backend */
void sysinfo_put(struct sysinfo *si, const char *section, const char *key, const char *value);
const char *sysinfo_get(const struct sysinfo *si, const char *section, const char *key);
void sysinfo_free(struct sysinfo *si);
void sysinfo_print(const struct sysinfo *si, FILE *f);  /* human-readable, for `info` */
int sysinfo_write_json(const struct sysinfo *si, const char *path);
/* Reads a system.json written by sysinfo_write_json. -1 with a reason when malformed. */
int sysinfo_read_json(struct sysinfo *si, const char *path, char *why, size_t n);
int sysinfo_parse_json(struct sysinfo *si, const char *text, const char *name, char *why, size_t n);

/* The ceilings (harness/measure/ceilings.h) as section "ceiling.<backend>" (sysinfo_collect.c).
 * ceilings_get: 0 when any was recorded for that backend. */
struct backend;
struct ceiling;
void ceilings_put(const struct backend *b, const struct ceiling *c, struct sysinfo *si);
int ceilings_get(const struct sysinfo *si, const char *backend, struct ceiling *c);
#endif
