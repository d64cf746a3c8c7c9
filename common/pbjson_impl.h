/* Internal to the pbjson module (common/pbjson*.c): the type table and the helpers the encoder
 * and the decoder share. Not for other modules: they use common/pbjson.h. */
#ifndef COMMON_PBJSON_IMPL_H
#define COMMON_PBJSON_IMPL_H

#include <float.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pbjson.h"

/* At most this many levels of messages, the top one included, in either direction. */
#define PBJSON_MAX_DEPTH PBJSON_MAX_NESTING
/* Room for a field path in an error message, and for one JSON key quoted in it. */
#define PBJSON_PATH_MAX 256
#define PBJSON_KEY_SHOWN 64

/* How each protobuf-c type is stored in a message and named in error messages. */
typedef enum {
    PBJSON_K_INT,  /* signed integer of 32 or 64 bits */
    PBJSON_K_UINT, /* unsigned integer of 32 or 64 bits */
    PBJSON_K_FLOAT,
    PBJSON_K_DOUBLE,
    PBJSON_K_BOOL,
    PBJSON_K_ENUM,
    PBJSON_K_STRING,
    PBJSON_K_BYTES,
    PBJSON_K_MESSAGE,
} pbjson_kind;

typedef struct {
    pbjson_kind kind;
    size_t size;      /* bytes of one value (one element of a repeated field) */
    const char *name; /* the proto type name */
} pbjson_type_info;

typedef struct {
    int64_t min;
    uint64_t max;
} pbjson_int_range;

extern const pbjson_type_info pbjson_types[];
extern const pbjson_int_range pbjson_int_ranges[];
extern const char pbjson_b64_alphabet[];

const pbjson_type_info *pbjson_type(const ProtobufCFieldDescriptor *f);
size_t pbjson_utf8_len(const unsigned char *s, size_t n);
size_t pbjson_clip(char *dst, size_t cap, const char *s, size_t n);
char pbjson_camel_next(const char **p);
int pbjson_camel_is(const char *name, const char *key, size_t len);
void pbjson_number_from_locale(char *buf);

/* d as the shortest text that reads back exactly, into out (for messages; pbjson_encode.c). */
const char *pbjson_format_double(double d, char *out, size_t cap);

#endif
