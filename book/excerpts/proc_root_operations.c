/* fs/proc/root.c:348 proc_root_operations | Linux 6.12.117 */
static const struct file_operations proc_root_operations = {
        .read            = generic_read_dir,
        .iterate_shared  = proc_root_readdir,
        .llseek         = generic_file_llseek,
};
