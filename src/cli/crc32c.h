/* SPDX-License-Identifier: BSD-3-Clause */
/* CRC-32C (Castagnoli) for 'io crc': computed here, independently of the library. */
#ifndef DXL_CLI_CRC32C_H
#define DXL_CLI_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Start with crc = 0; feed chunks in order. crc32c("123456789") = 0xe3069283. */
uint32_t cli_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
