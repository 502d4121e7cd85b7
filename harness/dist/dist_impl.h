/* dist_impl.h: what the two transports of group.h (dist_mpi.c with MPI, dist_local.c without)
 * share with dist_common.c. Not for use outside harness/dist. */
#ifndef DLBENCH_DIST_IMPL_H
#define DLBENCH_DIST_IMPL_H
#include "group.h"

extern struct dist_info dist_me;            /* this process */
void dist_fill_local(void);                 /* host, launcher and binding from the environment */
void dist_comms_close(void);                /* every backend communicator dist_comm opened */
#endif
