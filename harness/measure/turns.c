/* turns.c: the run's side of ab's lockstep (turns.h): blocking one-byte reads and writes on the two
 * descriptors named by DLBENCH_TURNS; any failure (ab gone) ends the lockstep, never the run. */
#include "turns.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int turn_r = -1, turn_w = -1, turn_state; /* state: 0 not read yet, 1 on, -1 off */
static int holding;
static double held_since;

/* CLOCK_MONOTONIC seconds (as timing.c's wall_seconds; turns.h stays below timing.h) */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int turns_parse(const char *spec, int *r, int *w)
{
    char *end;
    if (!spec) return -1;
    errno = 0;
    long a = strtol(spec, &end, 10);
    if (errno || end == spec || *end != ',') return -1;
    const char *p = end + 1;
    long b = strtol(p, &end, 10);
    if (errno || end == p || *end || a < 3 || b < 3 || a == b || a > 65535 || b > 65535) return -1;
    *r = (int)a;
    *w = (int)b;
    return 0;
}

static int on(void)
{
    if (turn_state == 0) {
        turn_state = turns_parse(getenv("DLBENCH_TURNS"), &turn_r, &turn_w) == 0 ? 1 : -1;
        /* the other side may be gone when a write comes: an error return, not a SIGPIPE death */
        if (turn_state == 1) signal(SIGPIPE, SIG_IGN);
    }
    return turn_state == 1;
}

static void off(void)
{
    turn_state = -1;
    close(turn_r);
    close(turn_w);
}

void turn_take(void)
{
    if (!on() || holding) return;
    char c;
    ssize_t k;
    while ((k = read(turn_r, &c, 1)) < 0 && errno == EINTR) {}
    if (k != 1) { off(); return; }
    holding = 1;
    held_since = now_s();
}

void turn_give(void)
{
    if (!on() || !holding) return;
    char c = 't';
    ssize_t k;
    while ((k = write(turn_w, &c, 1)) < 0 && errno == EINTR) {}
    holding = 0;
    if (k != 1) off();
}

double turn_share(void)
{
    if (turn_state != 1 || !holding) return 0;
    double t0 = now_s();
    if (t0 - held_since < TURN_WINDOW_S) return 0;
    turn_give();
    turn_take();
    return now_s() - t0;
}
