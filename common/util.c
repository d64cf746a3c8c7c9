#include "common/util.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t util_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t util_monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned char table_key[crypto_shorthash_KEYBYTES];
static pthread_once_t table_key_once = PTHREAD_ONCE_INIT;

static void table_key_draw(void) {
    if (sodium_init() < 0) abort();
    randombytes_buf(table_key, sizeof table_key);
}

uint64_t util_table_hash(const char *s) {
    pthread_once(&table_key_once, table_key_draw);
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const unsigned char *)s, strlen(s), table_key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return v;
}

int util_uuid_valid(const char *s) {
    if (!s || strlen(s) != UUID_STR_LEN) return 0;
    for (int i = 0; i < UUID_STR_LEN; i++) {
        int dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i])) return 0;
    }
    return 1;
}

void util_uuid_new(char out[UUID_STR_LEN + 1]) {
    uint8_t b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    char hex[33];
    util_hex(b, 16, hex);
    memcpy(out, hex, 8);
    out[8] = '-';
    memcpy(out + 9, hex + 8, 4);
    out[13] = '-';
    memcpy(out + 14, hex + 12, 4);
    out[18] = '-';
    memcpy(out + 19, hex + 16, 4);
    out[23] = '-';
    memcpy(out + 24, hex + 20, 12);
    out[36] = '\0';
}

int util_hash_hex_valid(const char *s) {
    if (!s) return 0;
    /* One pass, no strlen: a NUL before the end is not a digit. */
    for (int i = 0; i < HASH_HEX_LEN; i++)
        if (!((unsigned)(s[i] - '0') < 10u || (unsigned)(s[i] - 'a') < 6u)) return 0;
    return s[HASH_HEX_LEN] == '\0';
}

void util_blake2b_hex(const void *data, size_t len, char out[HASH_HEX_LEN + 1]) {
    uint8_t digest[32];
    crypto_generichash(digest, sizeof digest, data, len, NULL, 0);
    util_hex(digest, sizeof digest, out);
}

void util_hex(const uint8_t *bytes, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

char *util_base64_encode(const uint8_t *bytes, size_t n) {
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(cap);
    if (out) sodium_bin2base64(out, cap, bytes, n, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

long util_base64_decode(const char *text, size_t len, uint8_t *out, size_t cap) {
    size_t n = 0;
    const char *end = NULL;
    /* Accept padded text; add missing padding for unpadded input. */
    char padded[1024];
    if (len % 4 != 0) {
        if (len + 4 > sizeof padded) return -1;
        memcpy(padded, text, len);
        while (len % 4)
            padded[len++] = '=';
        text = padded;
    }
    if (sodium_base642bin(out, cap, text, len, NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    if (end != text + len) return -1;
    return (long)n;
}

void util_strlcpy(char *dst, const char *src, size_t cap) {
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

double util_distance_m(double lat1, double lon1, double lat2, double lon2) {
    const double r = 6371008.8, rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(fmin(1.0, sqrt(a)));
}

void util_date_of_ms(int64_t ms, char out[11]) {
    time_t t = (time_t)((ms >= 0 ? ms : ms - 999) / 1000) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}
