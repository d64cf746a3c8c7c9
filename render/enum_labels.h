/* The Chinese labels the exports write beside the protobuf enum names (issue 19.6): the same
 * words the console shows (web/labels.js), so a spreadsheet reads 城镇污水处理厂排污口 next to
 * OUTFALL_TYPE_MUNICIPAL_WWTP. */
#ifndef PROGRAMME_EXPORT_LABELS_H
#define PROGRAMME_EXPORT_LABELS_H

/* The Chinese label of an outfall enum value written by its protobuf name (type, entry method,
 * discharge regime, survey level, lifecycle stage, party basis, remediation measure), or NULL
 * for a name it does not know or NULL. */
const char *export_label(const char *enum_name);

#endif
