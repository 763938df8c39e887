/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fork() detection without a system call on the hot path: a child
 * handler bumps a generation that every pool remembers from its open.
 * getpid() is a system call since glibc 2.25; comparing two words is not.
 */
#include <pthread.h>

#include "util.h"

uint32_t dxl_fork_generation;

static void on_fork_child(void)
{
	/* the child has one thread: nothing races with this store */
	__atomic_add_fetch(&dxl_fork_generation, 1, __ATOMIC_RELAXED);
}

static void register_handler(void)
{
	pthread_atfork(NULL, NULL, on_fork_child);
}

uint32_t dxl_fork_gen_start(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, register_handler);
	return __atomic_load_n(&dxl_fork_generation, __ATOMIC_RELAXED);
}
