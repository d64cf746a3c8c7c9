/* The role matrix's shard 3 (tests/api/test_roles.c): its rows i with i % 4 == 3, in parallel
 * with the others. */
#define ROLES_SHARD 3
#include "tests/api/test_roles.c"
