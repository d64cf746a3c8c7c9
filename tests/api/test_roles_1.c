/* The role matrix's shard 1 (tests/api/test_roles.c): its rows i with i % 4 == 1, in parallel
 * with the others. */
#define ROLES_SHARD 1
#include "tests/api/test_roles.c"
