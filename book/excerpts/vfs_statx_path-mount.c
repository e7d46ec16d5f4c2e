/* fs/stat.c:252 vfs_statx_path(), the mount | Linux 6.12.117 */
static int vfs_statx_path(struct path *path, int flags, struct kstat *stat,
                          u32 request_mask)
{
        int error = vfs_getattr(path, stat, request_mask, flags);

        if (request_mask & STATX_MNT_ID_UNIQUE) {
                stat->mnt_id = real_mount(path->mnt)->mnt_id_unique;
                stat->result_mask |= STATX_MNT_ID_UNIQUE;
        } else {
                stat->mnt_id = real_mount(path->mnt)->mnt_id;
                stat->result_mask |= STATX_MNT_ID;
        }

        if (path_mounted(path))
                stat->attributes |= STATX_ATTR_MOUNT_ROOT;
        stat->attributes_mask |= STATX_ATTR_MOUNT_ROOT;
