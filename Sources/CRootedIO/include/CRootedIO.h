#include "rooted_io.h"
#include "socket_diag.h"
#include "change_journal.h"
#include "file_facts.h"
