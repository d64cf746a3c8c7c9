#include "sync/read_ahead.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "sync/apply.h"
#include "sync/change_log.h"
#include "sync/entity.h"

/* With one phone syncing, the writer starts on a batch once its worker has prepared the first
 * change, and then reads, for each create, what the worker could have read while its own CPU
 * stood idle: whether the change's id was kept before, whether the record exists, where its
 * outfall lives (a sixth of the writer's time on a batch of 500 new observations). The worker
 * reads them instead (apply_lookahead), on its own handle, in a read transaction begun once the
 * writer's transaction for the batch is open (writer_job.opened). The batch is the first thing
 * that transaction writes, and nothing else commits until it does, so the read sees what the
 * writer started from. What the batch's own earlier changes may have changed is left to the
 * writer: an id that came earlier in the batch (in any case), an outfall once an outfall change
 * came. */

/* A set of ids compared regardless of case (open addressing; the ids are the request's). */
typedef struct id_set {
    const char **slot;
    size_t mask;
} id_set;

static int id_set_init(id_set *set, size_t n) {
    size_t slots = 16;
    while (slots < 2 * n)
        slots *= 2;
    set->slot = calloc(slots, sizeof *set->slot);
    set->mask = slots - 1;
    return set->slot ? 0 : -1;
}

/* Adds id to set; returns 1 when it was there already (or is too long to tell), else 0. */
static int id_seen(id_set *set, const char *id) {
    char low[UUID_STR_LEN + 1];
    size_t n = strlen(id);
    if (n > UUID_STR_LEN) return 1;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)id[i]);
    for (size_t i = (size_t)util_table_hash(low) & set->mask;; i = (i + 1) & set->mask) {
        if (!set->slot[i]) {
            set->slot[i] = id;
            return 0;
        }
        if (strcasecmp(set->slot[i], id) == 0) return 1;
    }
}

static atomic_ullong read_ahead; /* creates read ahead for since the process started */

uint64_t read_ahead_count(void) {
    return atomic_load(&read_ahead);
}

typedef struct look_ahead {
    store *s; /* the worker's handle */
    const Outfall__V1__SyncRequest *req;
    change_prep *prep;
    const atomic_int *opened; /* the writer's transaction for the batch is open */
    int reading;              /* 1: the read transaction is open on s; -1: none can be */
    int outfall_changed;      /* an outfall change came earlier in the batch */
    id_set changes, entities; /* the change ids and entity ids so far */
} look_ahead;

/* prep_look's look: reads ahead for change i of the batch (see above). */
static void look_ahead_at(void *arg, size_t i) {
    look_ahead *la = arg;
    const Outfall__V1__Change *ch = la->req->changes[i];
    apply_prep *ap = &la->prep[i].apply;
    int change_again = id_seen(&la->changes, ch->change_id ? ch->change_id : "");
    int entity_again = id_seen(&la->entities, ch->entity_id ? ch->entity_id : "");
    int outfall_changed = la->outfall_changed;
    int observation = ch->entity_case == OUTFALL__V1__CHANGE__ENTITY_OBSERVATION;
    if (ch->entity_case == OUTFALL__V1__CHANGE__ENTITY_OUTFALL)
        la->outfall_changed = 1;
    else if (!observation)
        return;
    if (!ap->ready || !ap->fields || ch->base_version != 0 || la->reading < 0) return;
    if (!la->reading) {
        if (!atomic_load(la->opened)) return;
        store_idle(la->s); /* no statement left un-reset may pin an older snapshot */
        la->reading =
            sqlite3_get_autocommit(store_db(la->s)) && store_exec(la->s, "BEGIN") == SQLITE_OK ? 1
                                                                                               : -1;
        if (la->reading < 0) return;
    }
    atomic_fetch_add(&read_ahead, 1);
    apply_ctx c = {.s = la->s};
    sync_error err = {0};
    if (!change_again) {
        Outfall__V1__ChangeResult *first = NULL;
        ap->ahead.change_new = change_log_find(la->s, ch, la->prep[i].hash, &first, &err) == 0;
        if (first) protobuf_c_message_free_unpacked(&first->base, NULL);
    }
    if (!entity_again) {
        entity_row row; /* entity_kinds: the outfall's, then the observation's */
        int found = entity_kinds[observation].load(&c, ch->entity_id, &row);
        if (found > 0) json_decref(row.doc);
        ap->ahead.entity_new = found == 0;
    }
    if (observation && !outfall_changed) {
        const char *id = entity_str(ap->fields, "outfall_id");
        apply_lookahead *a = &ap->ahead;
        if (strlen(id) <= UUID_STR_LEN && entity_live_outfall(&c, id, a->live, a->division) == 1)
            util_strlcpy(a->outfall_id, id, sizeof a->outfall_id);
    }
}

void read_ahead_prepare(store *s, const Outfall__V1__SyncRequest *req, change_prep *prep,
                        prep_progress *progress, writer_job *w, int may_look) {
    look_ahead la = {s, req, prep, &w->opened, may_look ? 0 : -1, 0, {0}, {0}};
    if (may_look &&
        (id_set_init(&la.changes, req->n_changes) || id_set_init(&la.entities, req->n_changes)))
        la.reading = -1;
    prep_look look = {look_ahead_at, &la};
    prep_changes(req, prep, progress, la.reading < 0 ? NULL : &look);
    if (la.reading == 1) store_exec(s, "COMMIT");
    free(la.changes.slot);
    free(la.entities.slot);
}
