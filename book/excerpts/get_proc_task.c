/* fs/proc/internal.h:148 get_proc_task() | Linux 6.12.117 */
static inline struct task_struct *get_proc_task(const struct inode *inode)
{
        return get_pid_task(proc_pid(inode), PIDTYPE_PID);
}
