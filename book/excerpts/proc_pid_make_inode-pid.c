/* fs/proc/base.c:1953 proc_pid_make_inode(), the task's pid | Linux 6.12.117 */
        /*
         * grab the reference to task.
         */
        pid = get_task_pid(task, PIDTYPE_PID);
        if (!pid)
                goto out_unlock;

        /* Let the pid remember us for quick removal */
        ei->pid = pid;
