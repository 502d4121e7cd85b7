/* prices.h: the price table (bench/prices.csv: device-name glob, USD per hour, what the price
 * covers, source, date) and the cost of an epoch. No match means no price, never a guess. */
#ifndef DLBENCH_PRICES_H
#define DLBENCH_PRICES_H
#include <stdio.h>

struct price { char pattern[128]; double usd_per_hour; char covers[32]; char source[256]; char date[16]; };

/* Parses a price table; -1 with "name:line: reason" for a malformed line. */
int prices_read(FILE *f, const char *name, struct price **p, char *why, size_t n);
int prices_load(const char *path, struct price **p, char *why, size_t n);
/* Where the table is when --prices does not say: the first readable of $DLBENCH_PRICES,
 * <the binary's folder>/../share/dlbench/prices.csv (an installed dlbench), the source tree's
 * bench/prices.csv compiled in, ./bench/prices.csv. Its path in buf, or NULL when none is. */
const char *prices_find(char *buf, size_t n);
/* First entry whose pattern matches the device name (case-insensitive glob), or NULL. */
const struct price *price_match(const struct price *p, int n, const char *device);
double epoch_cost_usd(double step_s, int batch, int dataset_size, double usd_per_hour);
#endif
