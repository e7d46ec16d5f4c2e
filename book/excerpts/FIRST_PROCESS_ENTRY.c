/* fs/proc/internal.h:160 FIRST_PROCESS_ENTRY | Linux 6.12.117 */
#define FIRST_PROCESS_ENTRY 256
