/* fs/proc/root.c:365 proc_root | Linux 6.12.117 */
struct proc_dir_entry proc_root = {
        .low_ino        = PROC_ROOT_INO, 
        .namelen        = 5, 
        .mode           = S_IFDIR | S_IRUGO | S_IXUGO, 
        .nlink          = 2, 
        .refcnt         = REFCOUNT_INIT(1),
        .proc_iops      = &proc_root_inode_operations, 
        .proc_dir_ops   = &proc_root_operations,
        .parent         = &proc_root,
        .subdir         = RB_ROOT,
        .name           = "/proc",
};
