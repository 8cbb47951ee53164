#ifndef STAL_CISAL_SHIM_H
#define STAL_CISAL_SHIM_H
#include <isa-l/erasure_code.h>
#include <isa-l/crc.h>
#include <isa-l/mem_routines.h>
#endif
