/* merge.c: placeholder */
#include "merge.h"
int merge_main(int argc, char **argv) { (void)argc; (void)argv; return 2; }
