/* A growing text the renderers write a page or a CSV into: printf-style appends, CSV cells
 * (render/csv.h) and HTML text (render/html.h's rules), and one check for memory at the end. */
#ifndef RENDER_TEXT_H
#define RENDER_TEXT_H

#include <stddef.h>

typedef struct text_buf {
    char *s; /* NUL-terminated after len bytes once anything was added */
    size_t len, cap;
    int oom; /* an append failed for memory: the rest are ignored */
} text_buf;

/* Appends fmt as printf formats it. */
void text_add(text_buf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends one CSV cell of v (NULL: empty; quoted as needed, a formula neutralised: csv_text),
 * then a comma or, when last, CRLF. */
void text_add_csv(text_buf *t, const char *v, int last);

/* Appends v (NULL: nothing) escaped as render/html.h escapes it. */
void text_add_html(text_buf *t, const char *v);

/* The text, malloc'd, its length in *len, handed to the caller; NULL (and nothing to free) when
 * an append ran out of memory. t is empty afterwards. */
char *text_take(text_buf *t, size_t *len);

#endif
