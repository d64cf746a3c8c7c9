/* Text for HTML (see html.h). */
#include "render/html.h"

const char *html_entity(char c) {
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

void html_escape(FILE *f, const char *text) {
    for (const char *p = text ? text : ""; *p; p++) {
        const char *entity = html_entity(*p);
        if (entity)
            fputs(entity, f);
        else
            fputc(*p, f);
    }
}
