/* files.h: how the run folder's derived files are written and read: a file is replaced atomically
 * (written to <path>.tmp, fsync'ed, renamed), so a crash leaves the old file or the new one, never
 * half of one; JSON documents go through cJSON. */
#ifndef DLBENCH_FILES_H
#define DLBENCH_FILES_H
#include <cjson/cJSON.h>
#include <stdio.h>

struct atomic_file { FILE *f; char tmp[4200], path[4200]; };
/* Opens <path>.tmp for writing; NULL on failure. */
FILE *atomic_open(struct atomic_file *af, const char *path);
/* Flushes, fsyncs and closes the temp file, then renames it over path. 0, or -1 (temp removed). */
int atomic_commit(struct atomic_file *af);
/* Writes doc (indented) to path atomically. 0 or -1. */
int json_write_file(const cJSON *doc, const char *path);
/* The whole file, NUL-terminated (malloc'ed; *len without the NUL), or NULL with "path: reason". */
char *file_read_all(const char *path, size_t *len, char *why, size_t n);
/* x rounded to 6 significant digits (what "%.6g" prints), so JSON numbers stay short. */
double round6(double x);
#endif
