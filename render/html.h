/* Text for HTML pages the server writes (the public sign-board page, the annual report). */
#ifndef RENDER_HTML_H
#define RENDER_HTML_H

#include <stdio.h>

/* The entity that stands for c in HTML text and quoted attribute values (&, <, >, " and '), or
 * NULL when c stands for itself. */
const char *html_entity(char c);

/* Writes text (NULL: nothing) to f with &, <, >, " and ' escaped, safe in HTML text and in quoted
 * attribute values. */
void html_escape(FILE *f, const char *text);

#endif
