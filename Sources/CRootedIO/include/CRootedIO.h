#include "rooted_io.h"
#include "socket_diag.h"
