/* state_cpu.c: the CPU's frequency state: the cpufreq governor and each core's current frequency
 * (/sys/devices/system/cpu/cpuN/cpufreq), else the "cpu MHz" lines of /proc/cpuinfo (in many
 * virtual machines a fixed nominal figure, which system.json then says). */
#include "cpu_ops.h"
#include "backend.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Current MHz of up to max CPUs; the count read, 0 when nothing is readable. *src says where from. */
int cpu_core_mhz(double *mhz, int max, const char **src)
{
    int n = 0;
    char path[96], line[256];
    for (int c = 0; c < max; c++) {
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_cur_freq", c);
        FILE *f = fopen(path, "r");
        double khz;
        if (!f) break;
        if (fscanf(f, "%lf", &khz) == 1) mhz[n++] = khz / 1000.0;
        fclose(f);
    }
    if (n > 0) { *src = "cpufreq scaling_cur_freq"; return n; }
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0;
    while (n < max && fgets(line, sizeof line, f))
        if (!strncmp(line, "cpu MHz", 7) && sscanf(strchr(line, ':') ? strchr(line, ':') + 1 : "", "%lf", &mhz[n]) == 1) n++;
    fclose(f);
    *src = "/proc/cpuinfo (cpu MHz; no cpufreq here)";
    return n;
}

/* The governor of cpu0 ("performance", "powersave", ...), or why there is none. */
void cpu_governor(char *buf, size_t n)
{
    FILE *f = fopen("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "r");
    if (!f || !fgets(buf, (int)n, f)) snprintf(buf, n, "n/a: no cpufreq (/sys/devices/system/cpu/cpu0/cpufreq)");
    else buf[strcspn(buf, "\n")] = 0;
    if (f) fclose(f);
}

void state_read_cpu(struct dev_state *s)
{
    double mhz[1024], sum = 0;
    const char *src = "";
    int n = cpu_core_mhz(mhz, 1024, &src);
    s->clock_mhz = s->mem_clock_mhz = s->power_w = s->power_limit_w = s->temp_c = NAN;
    s->reasons = 0;
    s->have_reasons = 0;
    snprintf(s->why, sizeof s->why, "%s", n ? "" : "n/a: no core frequency readable");
    for (int i = 0; i < n; i++) sum += mhz[i];
    if (n) s->clock_mhz = sum / n;
}
