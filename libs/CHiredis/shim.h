#ifndef VOICEFLOW_CHIREDIS_SHIM_H
#define VOICEFLOW_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#endif
