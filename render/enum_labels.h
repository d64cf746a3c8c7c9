/* The Chinese labels of the contract's enum values, as the exports write them beside the names
 * and the annual report's page shows them (issue 19.6): the same
 * words the console shows (web/labels.js), so a spreadsheet reads 城镇污水处理厂排污口 next to
 * OUTFALL_TYPE_MUNICIPAL_WWTP. */
#ifndef RENDER_ENUM_LABELS_H
#define RENDER_ENUM_LABELS_H

/* The Chinese label of an outfall enum value written by its protobuf name (type, entry method,
 * discharge regime, survey level, lifecycle stage, party basis, remediation measure), or NULL
 * for a name it does not know or NULL. */
const char *enum_label(const char *enum_name);

#endif
