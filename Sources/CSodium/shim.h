#include <sodium/core.h>
#include <sodium/crypto_core_ed25519.h>
