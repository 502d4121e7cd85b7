/* workload_train_gpt.h: the GPT cases of the train workload (workload_train.c dispatches to these
 * when a case has a gpt config): one call = one whole step on the next B·T + 1 tokens. */
#ifndef DLBENCH_WORKLOAD_TRAIN_GPT_H
#define DLBENCH_WORKLOAD_TRAIN_GPT_H
#include "train_cases.h"

void gpt_case_shape(const struct train_case *c, char *buf, size_t n);
double gpt_case_flops(const struct train_case *c);
double gpt_case_bytes(const struct train_case *c, enum dtype dt);
size_t gpt_case_device_bytes(const struct train_case *c, enum dtype dt);
double gpt_case_items(const struct train_case *c);           /* tokens per step */
double gpt_case_check_flops(const struct train_case *c);     /* the first-step check's double forward */
double gpt_case_tolerance(const struct train_case *c, enum dtype dt);
int gpt_case_check_data(const struct train_case *c, char *why, size_t n);   /* --data usable for this case */
/* 0, or -1 with why: b cannot run this GPT case at dt (dtype, variant, tables it lacks). */
int gpt_case_refuses(const struct backend *b, const struct train_case *c, enum dtype dt, char *why, size_t n);
void *gpt_run_setup(const struct backend *b, const struct train_case *c, enum dtype dt, char *why, size_t n);
int gpt_run_call(void *run);
double gpt_run_check(void *run, char *why, size_t n);
void gpt_run_teardown(void *run);
#endif
