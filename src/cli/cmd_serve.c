/* SPDX-License-Identifier: BSD-3-Clause */
/* daxlease keygen / serve: a key file, and a pool served over libfabric. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#ifdef DXL_HAVE_RDMA
#include "daxlease/rdma.h"

static int run_keygen(int argc, char **argv)
{
	static const struct option longopts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	int c, rc;

	while ((c = cli_getopt("keygen", argc, argv, "", longopts)) != -1)
		if (c == '?')
			return CLI_USAGE;
	if (argc - optind != 1)
		return cli_usage("keygen", "expected one FILE");
	rc = dxl_key_generate(argv[optind]);
	if (rc)
		return cli_lib_error("keygen", argv[optind], rc);
	printf("wrote a new key to %s (mode 0600): give it to the server and its clients only\n",
	       argv[optind]);
	return CLI_OK;
}

static dxl_server *the_server;

static void on_signal(int sig)
{
	dxl_server_stop(the_server);
}

static void log_line(void *arg, const char *line)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld daxlease serve: %s\n", when, ts.tv_nsec / 1000000, line);
}

static int run_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"listen", required_argument, 0, 'l'},   {"key-file", required_argument, 0, 'k'},
		{"provider", required_argument, 0, 'p'}, {"client-timeout", required_argument, 0, 't'},
		{"max-clients", required_argument, 0, 'm'}, {"max-layouts", required_argument, 0, 'L'},
		{"quiet", no_argument, 0, 'q'},          {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};
	struct dxl_server_opts o = {.version = DXL_SERVER_OPTS_VERSION, .log = log_line};
	const char *listen = NULL, *pool_path;
	struct sigaction sa;
	dxl_pool *pool;
	uint64_t v;
	int c, rc;

	while ((c = cli_getopt("serve", argc, argv, "l:k:p:t:m:L:q", longopts)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'k': o.key_file = optarg; break;
		case 'p': o.provider = optarg; break;
		case 't':
			if (cli_parse_duration_ms(optarg, &v) || v == 0 || v > UINT32_MAX)
				return cli_usage("serve", "--client-timeout: expected a duration, e.g. 10s");
			o.client_timeout_ms = (uint32_t)v;
			break;
		case 'm':
		case 'L':
			if (cli_parse_size(optarg, &v) || v == 0 || v > 65536)
				return cli_usage("serve", "--%s: expected 1..65536",
						 c == 'm' ? "max-clients" : "max-layouts");
			if (c == 'm')
				o.max_clients = (uint32_t)v;
			else
				o.max_layouts = (uint32_t)v;
			break;
		case 'q': o.log = NULL; break;
		default: return CLI_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage("serve", "expected one POOL");
	if (!listen || !o.key_file)
		return cli_usage("serve", "--listen HOST:PORT and --key-file FILE are required");
	pool_path = argv[optind];
	if ((rc = cli_open_pool("serve", pool_path, 0, &pool)) != CLI_OK)
		return rc;
	rc = dxl_server_start(pool, listen, &o, &the_server);
	if (rc) {
		cli_lib_error("serve", listen, rc);
		return cli_close_pool("serve", pool_path, pool, CLI_FAIL);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = dxl_server_run(the_server);
	if (rc)
		cli_lib_error("serve", listen, rc);
	dxl_server_close(the_server);
	the_server = NULL;
	if (o.log)
		log_line(NULL, "stopped");
	return cli_close_pool("serve", pool_path, pool, rc ? CLI_FAIL : CLI_OK);
}
#else
static int no_rdma(const char *cmd)
{
	fprintf(stderr, "daxlease: %s: this build has no RDMA layer (libfabric and libsodium were not found)\n", cmd);
	return CLI_FAIL;
}
static int run_keygen(int argc, char **argv) { return no_rdma("keygen"); }
static int run_serve(int argc, char **argv) { return no_rdma("serve"); }
#endif

const struct cli_cmd cli_cmd_keygen = {
	.name = "keygen",
	.run = run_keygen,
	.usage = "keygen FILE",
	.summary = "make a secret key file for serve and remote",
	.help = "Writes 32 random bytes as hex to FILE, created with mode 0600 (it must\n"
		"not exist). The server and every client need a copy; serve and remote\n"
		"refuse a key file that group or others can read.\n",
};

const struct cli_cmd cli_cmd_serve = {
	.name = "serve",
	.run = run_serve,
	.usage = "serve POOL --listen HOST:PORT --key-file FILE [options]",
	.summary = "serve the pool's files over libfabric (RDMA) to remote clients",
	.help = "Clients ('daxlease remote', or the dxl_remote_* library) authenticate with\n"
		"the key, ask for metadata operations, and read and write file ranges with\n"
		"one-sided RDMA through layouts, which the server recalls before the range's\n"
		"layout changes. See docs/rdma.md.\n\n"
		"  -l, --listen HOST:PORT    the address to listen on (an IPv4 address or name)\n"
		"  -k, --key-file FILE       the shared secret (see 'daxlease keygen'); mode 0600\n"
		"  -p, --provider NAME       libfabric provider (default $DXL_FI_PROVIDER or\n"
		"                            tcp;ofi_rxm; verbs;ofi_rxm on RDMA NICs)\n"
		"  -t, --client-timeout DUR  drop a client silent this long (default 10s)\n"
		"  -m, --max-clients N       clients at once (default 256)\n"
		"  -L, --max-layouts N       layouts per client (default 64)\n"
		"  -q, --quiet               no log lines on standard error\n\n"
		"Runs until SIGINT or SIGTERM; then every client's layouts are revoked.\n",
};
