/* fs/namei.c:1433 __traverse_mounts(), onto a mount | Linux 6.12.117 */
                if (flags & DCACHE_MOUNTED) {   // something's mounted on it..
                        struct vfsmount *mounted = lookup_mnt(path);
                        if (mounted) {          // ... in our namespace
                                dput(path->dentry);
                                if (need_mntput)
                                        mntput(path->mnt);
                                path->mnt = mounted;
                                path->dentry = dget(mounted->mnt_root);
                                // here we know it's positive
                                flags = path->dentry->d_flags;
                                need_mntput = true;
                                continue;
                        }
                }
