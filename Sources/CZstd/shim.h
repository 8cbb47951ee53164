#ifndef STAL_CZSTD_SHIM_H
#define STAL_CZSTD_SHIM_H
#include <zstd.h>
#endif
