/* fs/proc/internal.h:160 FIRST_PROCESS_ENTRY | Linux 6.12.117 (Debian linux-source-6.12) */
#define FIRST_PROCESS_ENTRY 256
