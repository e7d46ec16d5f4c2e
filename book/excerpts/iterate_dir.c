/* fs/readdir.c:85 iterate_dir() | Linux 6.12.117 */
int iterate_dir(struct file *file, struct dir_context *ctx)
{
        struct inode *inode = file_inode(file);
        int res = -ENOTDIR;

        if (!file->f_op->iterate_shared)
                goto out;

        res = security_file_permission(file, MAY_READ);
        if (res)
                goto out;

        res = fsnotify_file_perm(file, MAY_READ);
        if (res)
                goto out;

        res = down_read_killable(&inode->i_rwsem);
        if (res)
                goto out;

        res = -ENOENT;
        if (!IS_DEADDIR(inode)) {
                ctx->pos = file->f_pos;
                res = file->f_op->iterate_shared(file, ctx);
                file->f_pos = ctx->pos;
                fsnotify_access(file);
                file_accessed(file);
        }
        inode_unlock_shared(inode);
out:
        return res;
}
