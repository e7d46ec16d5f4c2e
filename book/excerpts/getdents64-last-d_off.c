/* fs/readdir.c:410 getdents64(), the last entry's d_off | Linux 6.12.117 */
        if (buf.prev_reclen) {
                struct linux_dirent64 __user * lastdirent;
                typeof(lastdirent->d_off) d_off = buf.ctx.pos;

                lastdirent = (void __user *) buf.current_dir - buf.prev_reclen;
                if (put_user(d_off, &lastdirent->d_off))
                        error = -EFAULT;
                else
                        error = count - buf.count;
        }
