/* fs/proc/array.c:184 task_state(), the Tgid and Pid lines | Linux 6.12.117 */
        seq_put_decimal_ull(m, "\nTgid:\t", tgid);
        seq_put_decimal_ull(m, "\nNgid:\t", ngid);
        seq_put_decimal_ull(m, "\nPid:\t", pid_nr_ns(pid, ns));
