/* kernel/pid.c:346 __change_pid() and detach_pid() | Linux 6.12.117 */
static void __change_pid(struct task_struct *task, enum pid_type type,
                        struct pid *new)
{
        struct pid **pid_ptr = task_pid_ptr(task, type);
        struct pid *pid;
        int tmp;

        pid = *pid_ptr;

        hlist_del_rcu(&task->pid_links[type]);
        *pid_ptr = new;

        if (type == PIDTYPE_PID) {
                WARN_ON_ONCE(pid_has_task(pid, PIDTYPE_PID));
                wake_up_all(&pid->wait_pidfd);
        }

        for (tmp = PIDTYPE_MAX; --tmp >= 0; )
                if (pid_has_task(pid, tmp))
                        return;

        free_pid(pid);
}

void detach_pid(struct task_struct *task, enum pid_type type)
{
        __change_pid(task, type, NULL);
}
