/* A growing text (see text.h). */
#include "render/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "render/csv.h"
#include "render/html.h"

void text_add(text_buf *t, const char *fmt, ...) {
    if (t->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = 1;
            return;
        }
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
        char *grown = realloc(t->s, cap);
        if (!grown) {
            t->oom = 1;
            return;
        }
        t->s = grown;
        t->cap = cap;
    }
}

/* Appends len bytes of data (csv_text's writer). */
static void add_bytes(void *ctx, const char *data, size_t len) {
    text_add(ctx, "%.*s", (int)len, data);
}

void text_add_csv(text_buf *t, const char *v, int last) {
    csv_text(add_bytes, t, v);
    text_add(t, last ? "\r\n" : ",");
}

void text_add_html(text_buf *t, const char *v) {
    for (const char *c = v ? v : ""; *c; c++) {
        const char *entity = html_entity(*c);
        if (entity)
            text_add(t, "%s", entity);
        else
            text_add(t, "%c", *c);
    }
}

char *text_take(text_buf *t, size_t *len) {
    char *s = t->oom ? NULL : t->s;
    if (t->oom) free(t->s);
    *len = s ? t->len : 0;
    *t = (text_buf){0};
    return s;
}
