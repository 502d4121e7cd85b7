/* prices.h: the price table (bench/prices.csv) and what a row costs. Each entry is an instance a
 * user rents: the device-name glob it prices, cpu or gpu, the instance, its on-demand USD per hour
 * (or "n/a" with the reason in source), its vCPUs and GPUs, the source and the date. A CPU row
 * pays the instance's price per vCPU-hour times the PUs its threads occupied; a GPU row pays its
 * instance's price per GPU (the instance's host CPUs included). No match means no price, never a
 * guess. */
#ifndef DLBENCH_PRICES_H
#define DLBENCH_PRICES_H
#include <stdio.h>
#include "row.h"
#include "sysinfo.h"

#define PRICES_HEADER "pattern,kind,instance,usd_per_hour,vcpus,gpus,source,date"

struct price {
    char pattern[128];
    int gpu;                    /* kind: 0 cpu, 1 gpu */
    char instance[64];
    double usd_per_hour;        /* the whole instance's; NAN: "n/a", no list price */
    int vcpus, gpus;
    char source[256], date[16];
};

/* Parses a price table; -1 with "name:line: reason" for a malformed line. */
int prices_read(FILE *f, const char *name, struct price **p, char *why, size_t n);
int prices_load(const char *path, struct price **p, char *why, size_t n);
/* Where the table is when --prices does not say: the first readable of $DLBENCH_PRICES,
 * <the binary's folder>/../share/dlbench/prices.csv (an installed dlbench), the source tree's
 * bench/prices.csv compiled in, ./bench/prices.csv. Its path in buf, or NULL when none is. */
const char *prices_find(char *buf, size_t n);
/* First entry of that kind whose pattern matches the key (case-insensitive glob), or NULL. */
const struct price *price_match(const struct price *p, int n, int gpu, const char *key);
/* What a CPU's entry is matched against: "<model name> [family F model M]" on x86, "<model name>
 * [implementer 0x41 part 0xd4f]" on ARM (a virtual machine's name alone often hides the
 * generation), from /proc/cpuinfo; the model name alone when that says nothing more. */
void price_cpu_key(const char *model, char *buf, size_t n);
/* The price of one unit: CPU entries per vCPU-hour, GPU entries per GPU-hour; NAN for "n/a". */
double price_unit_usd(const struct price *p);

/* USD per hour a row pays, from the "price.<backend>" section of system.json: CPU rows pay
 * usd_per_vcpu_hour x the PUs their threads occupied (threads x cpu.pus / cpu.cores, at most
 * cpu.pus), GPU rows usd_per_gpu_hour (an older run folder's usd_per_hour: as it is). NAN with
 * why ("n/a: ...") when the run has no price. */
double row_usd_per_hour(const struct sysinfo *si, const struct row *r, char *why, size_t n);
/* The PUs a CPU row's threads occupied on the machine si describes. */
double row_pus(const struct sysinfo *si, const struct row *r);
double epoch_cost_usd(double step_s, int batch, int dataset_size, double usd_per_hour);
#endif
