/* fs/proc/base.c:3552 TGID_OFFSET | Linux 6.12.117 */
#define TGID_OFFSET (FIRST_PROCESS_ENTRY + 2)
