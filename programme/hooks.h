/* The programme's side of the engine's hooks (sync/hooks.h). */
#ifndef PROGRAMME_HOOKS_H
#define PROGRAMME_HOOKS_H

/* Registers the programme's features with the engine: inspection results
 * (programme/inspection_results.h) and photos of public reports (programme/public_report_photos.h).
 * Call once at start, before any thread uses the engine: the server does, and every tool or test
 * that runs the engine with its features. */
void programme_hooks_install(void);

#endif
