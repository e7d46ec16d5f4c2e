/* fs/proc/base.c:3552 TGID_OFFSET | Linux 6.12.117 (Debian linux-source-6.12) */
#define TGID_OFFSET (FIRST_PROCESS_ENTRY + 2)
