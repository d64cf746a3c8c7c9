/* The role matrix's shard 2 (tests/api/test_roles.c): its rows i with i % 4 == 2, in parallel
 * with the others. */
#define ROLES_SHARD 2
#include "tests/api/test_roles.c"
