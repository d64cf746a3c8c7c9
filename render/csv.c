/* CSV cells, neutralised against formula injection (see csv.h). */
#include "render/csv.h"

#include <string.h>

/* The first bytes that make a spreadsheet read a cell as a formula (OWASP, CSV Injection). */
static const char formula_starts[] = "=+-@\t\r";

int csv_is_formula(const char *text) {
    return text && text[0] && strchr(formula_starts, text[0]) != NULL;
}

void csv_text(csv_put_fn put, void *ctx, const char *text) {
    const char *v = text ? text : "";
    int quoted = strpbrk(v, ",\"\r\n") != NULL;
    if (quoted) put(ctx, "\"", 1);
    if (csv_is_formula(v)) put(ctx, "'", 1);
    for (const char *run = v;; v++) {
        if (*v != '"' && *v != '\0') continue;
        if (v > run) put(ctx, run, (size_t)(v - run));
        if (*v == '\0') break;
        put(ctx, "\"\"", 2);
        run = v + 1;
    }
    if (quoted) put(ctx, "\"", 1);
}
