/* GET /healthz: liveness, with the schema version of the database. */
#include "server/api.h"

/* Health{status "ok", schema_version, version}; public. */
int api_health_read(http_req *r) {
    Outfall__V1__Health h = OUTFALL__V1__HEALTH__INIT;
    h.status = "ok";
    h.has_schema_version = 1;
    h.schema_version = store_schema_version(r->store);
    h.version = OUTFALLD_VERSION;
    return http_send_message(r, 200, &h.base);
}
