/* Small helpers shared by the engine, the server, the CLI and the tests. */
#ifndef COMMON_UTIL_H
#define COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define UUID_STR_LEN 36 /* without the terminating NUL */
#define HASH_HEX_LEN 64 /* BLAKE2b-256 as lowercase hex, without NUL */

/* Milliseconds since the Unix epoch, from the real-time clock. */
int64_t util_now_ms(void);

/* Milliseconds from a clock that never jumps (CLOCK_MONOTONIC), for deadlines and durations. */
int64_t util_monotonic_ms(void);

/* 1 when s is a UUID in its canonical 8-4-4-4-12 hex form (either case), else 0. */
int util_uuid_valid(const char *s);

/* Writes a fresh random (version 4) UUID, lowercase, NUL-terminated, into out[37]. */
void util_uuid_new(char out[UUID_STR_LEN + 1]);

/* 1 when s is exactly 64 lowercase hex digits, else 0. */
int util_hash_hex_valid(const char *s);

/* BLAKE2b-256 of data, as 64 lowercase hex digits plus NUL into out[65]. */
void util_blake2b_hex(const void *data, size_t len, char out[HASH_HEX_LEN + 1]);

/* Lowercase hex of n bytes into out (2n + 1 bytes). */
void util_hex(const uint8_t *bytes, size_t n, char *out);

/* Base64 (standard alphabet, padded). Returns a malloc'd string the caller frees, or NULL. */
char *util_base64_encode(const uint8_t *bytes, size_t n);

/* Decodes standard base64 (padding optional) into out (at most cap bytes).
 * Returns the decoded length, or -1 when the text is not base64 or does not fit. */
long util_base64_decode(const char *text, size_t len, uint8_t *out, size_t cap);

/* Copies src into dst[cap], truncating; always NUL-terminates (cap > 0). */
void util_strlcpy(char *dst, const char *src, size_t cap);

/* A hash of text s for the slots of an in-memory table whose keys come from outside: SipHash-2-4
 * (libsodium's crypto_shorthash) under a key drawn once per process, so that nobody can choose
 * keys that share a slot and make each lookup walk all of them. */
uint64_t util_table_hash(const char *s);

/* The calendar date in China Standard Time (UTC+8) of a Unix time in ms, into out[11] as
 * YYYY-MM-DD. */
void util_date_of_ms(int64_t ms, char out[11]);

/* Great-circle distance in metres between two WGS-84 points (haversine, mean Earth radius). */
double util_distance_m(double lat1, double lon1, double lat2, double lon2);

#endif
