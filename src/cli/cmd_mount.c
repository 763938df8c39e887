/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease mount: the pool as a directory tree through FUSE (src/fuse). */
#include "cli.h"

#ifdef DXL_HAVE_FUSE
#include "fuse/fuse_fs.h"
#endif

static int run(int argc, char **argv)
{
	const char *options = NULL;
	bool foreground = false, single = false, debug = false;
	int c;

	cli_getopt_reset();
	while ((c = cli_getopt("mount", argc, argv, "fsdo:", NULL)) != -1) {
		switch (c) {
		case 'f': foreground = true; break;
		case 's': single = true; break;
		case 'd': debug = true; break;
		case 'o': options = optarg; break;
		default: return CLI_USAGE;
		}
	}
	if (argc - optind != 2)
		return cli_usage("mount", argc - optind < 2 ? "missing POOL or DIR"
							  : "too many arguments");
#ifdef DXL_HAVE_FUSE
	struct dxl_fuse_opts o = {
		.pool = argv[optind],
		.dir = argv[optind + 1],
		.options = options,
		.foreground = foreground,
		.single_thread = single,
		.debug = debug,
	};
	return dxl_fuse_run(&o);
#else
	(void)options, (void)foreground, (void)single, (void)debug;
	fprintf(stderr, "daxlease: mount: this daxlease was built without FUSE support "
			"(install libfuse3-dev and rebuild)\n");
	return CLI_FAIL;
#endif
}

const struct cli_cmd cli_cmd_mount = {
	.name = "mount",
	.run = run,
	.usage = "mount [-f] [-s] [-d] [-o OPTIONS] POOL DIR",
	.summary = "mount the pool on DIR through FUSE (unmount: fusermount3 -u DIR)",
	.help = "  -f          stay in the foreground (default: return once mounted, serve in\n"
		"              the background)\n"
		"  -s          serve one request at a time\n"
		"  -d          trace requests and report library errors (implies -f)\n"
		"  -o OPTIONS  comma-separated mount options: cached (kernel page cache,\n"
		"              shared mmap; default is direct_io), ro, allow_other,\n"
		"              attr_timeout=S, entry_timeout=S, and other libfuse options\n"
		"\nThe pool stays open in the mount process until the unmount (or SIGTERM,\n"
		"SIGINT). See docs/mount.md.\n",
};
