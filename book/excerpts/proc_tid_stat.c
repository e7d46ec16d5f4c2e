/* fs/proc/array.c:672 proc_tid_stat() and proc_tgid_stat() | Linux 6.12.117 */
int proc_tid_stat(struct seq_file *m, struct pid_namespace *ns,
                        struct pid *pid, struct task_struct *task)
{
        return do_task_stat(m, ns, pid, task, 0);
}

int proc_tgid_stat(struct seq_file *m, struct pid_namespace *ns,
                        struct pid *pid, struct task_struct *task)
{
        return do_task_stat(m, ns, pid, task, 1);
}
