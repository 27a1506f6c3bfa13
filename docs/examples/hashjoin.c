/* A hash join: build a chained hash table of 200,000 rows, then probe it with 200,000 keys (half of them hit). */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

struct row { uint64_t key, payload; struct row *next; };

int main(void) {
    enum { ROWS = 200000, BUCKETS = 1 << 17 };
    struct row **table = calloc(BUCKETS, sizeof *table);
    uint64_t x = 88172645463325252ULL, sum = 0;
    for (int i = 0; i < ROWS; i++) {
        struct row *r = malloc(sizeof *r);
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        r->key = x % (2 * ROWS);
        r->payload = i;
        uint64_t b = (r->key * 0x9E3779B97F4A7C15ULL) >> (64 - 17);
        r->next = table[b];
        table[b] = r;
    }
    for (int i = 0; i < ROWS; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        uint64_t key = x % (2 * ROWS);
        uint64_t b = (key * 0x9E3779B97F4A7C15ULL) >> (64 - 17);
        for (struct row *r = table[b]; r; r = r->next)
            if (r->key == key) sum += r->payload;
    }
    printf("%llu\n", (unsigned long long)sum);
    return 0;
}
