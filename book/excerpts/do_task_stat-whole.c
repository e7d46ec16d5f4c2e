/* fs/proc/array.c:554 do_task_stat(), the whole-group sums | Linux 6.12.117 */
                if (whole) {
                        struct task_struct *t;

                        min_flt = sig->min_flt;
                        maj_flt = sig->maj_flt;
                        gtime = sig->gtime;

                        rcu_read_lock();
                        __for_each_thread(sig, t) {
                                min_flt += t->min_flt;
                                maj_flt += t->maj_flt;
                                gtime += task_gtime(t);
                        }
                        rcu_read_unlock();
                }
        }

        if (whole) {
                thread_group_cputime_adjusted(task, &utime, &stime);
        } else {
                task_cputime_adjusted(task, &utime, &stime);
                min_flt = task->min_flt;
                maj_flt = task->maj_flt;
                gtime = task_gtime(task);
        }
