/* Touches 320 pages of a 1.25 MiB array: a sequential pass, a strided pass and a pseudo-random pass (LCG). */
static unsigned char buf[320 * 4096];
static void sys_exit(int code) { __asm__ volatile("mov $60, %%eax; syscall" :: "D"(code) : "rax", "rcx", "r11", "memory"); }
void _start(void) {
    unsigned long sum = 0, x = 12345;
    for (unsigned long i = 0; i < sizeof buf; i += 512) buf[i] = (unsigned char)i;
    for (int r = 0; r < 3; r++)
        for (unsigned long p = 0; p < 320; p += 3) sum += buf[p * 4096 + 8 * r];
    for (int k = 0; k < 2000; k++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        sum += buf[(x >> 33) % sizeof buf];
    }
    sys_exit((int)(sum & 1));
}
