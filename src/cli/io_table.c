/* SPDX-License-Identifier: BSD-3-Clause */
/* The io command table, in the order 'help' lists it. */
#include <string.h>

#include "io.h"

const struct io_cmd io_cmds[] = {
	{"pwrite", io_pwrite, "S:", 2, 2, "[-S BYTE] OFF LEN",
	 "write LEN bytes of BYTE (default 0xcd) at OFF"},
	{"pread", io_pread, "v", 2, 2, "[-v] OFF LEN",
	 "read LEN bytes at OFF (stops at EOF); -v dumps them in hex"},
	{"crc", io_crc, "", 2, 2, "OFF LEN", "crc32c of the bytes at OFF..OFF+LEN (stops at EOF)"},
	{"truncate", io_truncate, "", 1, 1, "SIZE", "set the file size"},
	{"falloc", io_falloc, "k", 2, 2, "[-k] OFF LEN",
	 "allocate storage; -k keeps the size (FALLOC_FL_KEEP_SIZE)"},
	{"fpunch", io_fpunch, "", 2, 2, "OFF LEN", "punch a hole (FALLOC_FL_PUNCH_HOLE)"},
	{"fzero", io_fzero, "k", 2, 2, "[-k] OFF LEN",
	 "zero a range (FALLOC_FL_ZERO_RANGE); -k keeps the size"},
	{"fcollapse", io_fcollapse, "", 2, 2, "OFF LEN",
	 "remove a unit-aligned range, moving the rest down (FALLOC_FL_COLLAPSE_RANGE)"},
	{"finsert", io_finsert, "", 2, 2, "OFF LEN",
	 "open a unit-aligned hole, moving the rest up (FALLOC_FL_INSERT_RANGE)"},
	{"funshare", io_funshare, "k", 2, 2, "[-k] OFF LEN",
	 "give the range private storage (FALLOC_FL_UNSHARE_RANGE); -k keeps the size"},
	{"reflink", io_reflink, "", 1, 4, "SRC_PATH [SRC_OFF DST_OFF LEN]",
	 "share SRC_PATH's blocks into this file (whole file if no range)"},
	{"fsync", io_fsync, "", 0, 0, "", "make data and metadata durable"},
	{"fdatasync", io_fdatasync, "", 0, 0, "", "make data durable"},
	{"stat", io_stat, "", 0, 0, "", "print the file's attributes as 'key = value'"},
	{"mmap", io_mmap, "dr", 2, 2, "[-d] [-r] OFF LEN",
	 "map the range (the one current mapping); -d DXL_MAP_DIRECT, -r read-only"},
	{"munmap", io_munmap, "", 0, 0, "", "unmap the current mapping"},
	{"mwrite", io_mwrite, "S:", 2, 2, "[-S BYTE] OFF LEN",
	 "store LEN bytes of BYTE (default 0xcd) at mapping offset OFF, then dxl_persist"},
	{"mread", io_mread, "v", 2, 2, "[-v] OFF LEN",
	 "load LEN bytes at mapping offset OFF; -v dumps them (file offsets)"},
	{"lease", io_lease, "u", 2, 2, "[-u] OFF LEN",
	 "take a layout lease on OFF..OFF+LEN (LEN 0: to EOF and beyond); -u refusing"},
	{"unlease", io_unlease, "", 0, 0, "", "release the lease taken by 'lease'"},
	{"pin", io_pin, "l", 2, 2, "[-l] OFF LEN",
	 "pin the range's storage; -l long-term, under the current lease"},
	{"unpin", io_unpin, "", 0, 0, "", "drop every pin taken by 'pin'"},
	{"wait-break", io_wait_break, "t:", 0, 0, "[-t SECONDS]",
	 "wait for a break, print it, give the lease back (unpin, munmap, release)"},
	{"events", io_events, "", 0, 0, "", "dispatch queued events without waiting; print them"},
	{"sleep", io_sleep, "", 1, 1, "SECONDS", "sleep (fractions allowed: 0.3), handling nothing"},
	{"help", io_help, "", 0, 1, "[CMD]", "list the commands, or describe one"},
};
const size_t io_ncmds = sizeof(io_cmds) / sizeof(io_cmds[0]);

const struct io_cmd *io_find(const char *name)
{
	for (size_t i = 0; i < io_ncmds; i++)
		if (strcmp(io_cmds[i].name, name) == 0)
			return &io_cmds[i];
	return NULL;
}
