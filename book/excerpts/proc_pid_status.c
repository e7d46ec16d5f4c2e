/* fs/proc/array.c:439 proc_pid_status() | Linux 6.12.117 */
int proc_pid_status(struct seq_file *m, struct pid_namespace *ns,
                        struct pid *pid, struct task_struct *task)
{
        struct mm_struct *mm = get_task_mm(task);

        seq_puts(m, "Name:\t");
        proc_task_name(m, task, true);
        seq_putc(m, '\n');

        task_state(m, ns, pid, task);

        if (mm) {
                task_mem(m, mm);
                task_core_dumping(m, task);
                task_thp_status(m, mm);
                task_untag_mask(m, mm);
                mmput(mm);
        }
        task_sig(m, task);
        task_cap(m, task);
        task_seccomp(m, task);
        task_cpus_allowed(m, task);
        cpuset_task_status_allowed(m, task);
        task_context_switch_counts(m, task);
        arch_proc_pid_thread_features(m, task);
        return 0;
}
