/* fs/readdir.c:372 filldir64(), the previous entry's d_off | Linux 6.12.117 */
        /* This might be 'dirent->d_off', but if so it will get overwritten */
        unsafe_put_user(offset, &prev->d_off, efault_end);
