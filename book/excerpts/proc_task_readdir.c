/* fs/proc/base.c:3903 proc_task_readdir() | Linux 6.12.117 */
static int proc_task_readdir(struct file *file, struct dir_context *ctx)
{
        struct inode *inode = file_inode(file);
        struct task_struct *task;
        struct pid_namespace *ns;
        int tid;

        if (proc_inode_is_dead(inode))
                return -ENOENT;

        if (!dir_emit_dots(file, ctx))
                return 0;

        /* We cache the tgid value that the last readdir call couldn't
         * return and lseek resets it to 0.
         */
        ns = proc_pid_ns(inode->i_sb);
        tid = (int)(intptr_t)file->private_data;
        file->private_data = NULL;
        for (task = first_tid(proc_pid(inode), tid, ctx->pos - 2, ns);
             task;
             task = next_tid(task), ctx->pos++) {
                char name[10 + 1];
                unsigned int len;

                tid = task_pid_nr_ns(task, ns);
                if (!tid)
                        continue;       /* The task has just exited. */
                len = snprintf(name, sizeof(name), "%u", tid);
                if (!proc_fill_cache(file, ctx, name, len,
                                proc_task_instantiate, task, NULL)) {
                        /* returning this tgid failed, save it as the first
                         * pid for the next readir call */
                        file->private_data = (void *)(intptr_t)tid;
                        put_task_struct(task);
                        break;
                }
        }

        return 0;
}
